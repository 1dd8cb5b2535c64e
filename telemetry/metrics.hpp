// The Prometheus families of SPEC §7 behind a small facade: callers say what happened
// (`m.cache(cache_name::user_page, cache_result::hit)`), the facade owns the series. Every family
// exists from start-up with zero-valued series for its known label values; the HTTP layer adds
// its route table with `prepare_http`. No user ids in labels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "telemetry/striped.hpp"

namespace booking {

enum class cache_result { hit, miss, coalesced };
enum class cache_name { user_page, locations };
enum class load_kind { user_page, locations };
enum class eviction_reason { idle, capacity };
enum class invalidation_result { queued, fallback, applied };
enum class promotion_result { promoted, skipped };
/// Why a finished span never reached the collector.
enum class span_drop { queue_full, retries_exhausted, non_retryable, rejected };

const char* to_string(cache_result r);
const char* to_string(span_drop d);

/// The version this binary was built from (CMake's project version).
const char* build_version();

class process_collector;

class metrics {
public:
  metrics();
  ~metrics();
  metrics(const metrics&) = delete;
  metrics& operator=(const metrics&) = delete;

  /// Text exposition of every family, the process families included.
  std::string serialize() const;
  prometheus::Registry& registry() { return *registry_; }

  // Caches and the store.
  void cache(cache_name c, cache_result r);
  void store_load(load_kind k);
  void store_error() { store_errors->Increment(); }

  // User actors and invalidations.
  void user_actor_started() { user_actors->Increment(); }
  void user_actor_stopped(eviction_reason why);
  /// Actors stopped with their directory (shutdown): the gauge only.
  void user_actors_gone(double n) { user_actors->Decrement(n); }
  void invalidation(invalidation_result r);
  void invalidation_queue(double delta) { invalidation_queue_depth->Increment(delta); }
  void waitlist_promotion(promotion_result r);

  // HTTP front-end.
  /// The label values one route can take.
  struct http_route {
    std::string route;
    std::vector<std::string> methods;
    std::vector<int> statuses;
  };
  /// Zero-valued series for every route of the route table (with `unmatched` and `refused`):
  /// each method with each status, and the route's duration histogram.
  void prepare_http(const std::vector<http_route>& routes);
  /// One finished request: counter and duration histogram. No lock, no allocation and no shared
  /// cache line once a thread has seen the series (telemetry/striped.hpp).
  void http_request(std::string_view route, std::string_view method, int status, double seconds);
  /// The API requests being served, set when the metrics are read (the edge counts them in its own
  /// atomic: a second shared counter per request cost two more contended updates).
  void set_inflight(std::int64_t n) { inflight->Set(static_cast<double>(n)); }
  void rejected(std::string_view reason);

  // The store writer (http/store_writer): members' writes committed in groups by one thread.
  void writer_queued(double delta) { writer_queue_depth->Increment(delta); }
  /// A group started with `writes` writes; each waited `waits[i]` seconds in the queue.
  void writer_group(std::size_t writes, const double* waits);
  void writer_refused() { writer_refused_->Increment(); }

  // Tracing.
  void span_recorded() { spans_recorded->Increment(); }
  void spans_exported(double n) { spans_exported_->Increment(n); }
  void spans_dropped(span_drop why, double n);
  void export_retry() { export_retries->Increment(); }

  /// Buckets of request durations in seconds: from 25 µs, with 1 ms and 2 ms boundaries.
  static prometheus::Histogram::BucketBoundaries duration_buckets();

  // The series themselves, for tests and the few callers that read a value. The three families
  // the HTTP threads update on every request are striped (telemetry/striped.hpp).
  striped_counter_family http_requests;
  striped_histogram_family http_duration;
  striped_counter_family cache_requests;
  prometheus::Gauge* inflight;
  prometheus::Family<prometheus::Counter>* rejected_family;
  prometheus::Counter* loads_user_page;
  prometheus::Counter* loads_locations;
  prometheus::Counter* store_errors;
  striped_counter* page_hit;
  striped_counter* page_miss;
  striped_counter* page_coalesced;
  striped_counter* locations_hit;
  striped_counter* locations_miss;
  striped_counter* locations_coalesced;
  prometheus::Gauge* user_actors;
  prometheus::Counter* user_evictions_idle;
  prometheus::Counter* user_evictions_capacity;
  prometheus::Counter* invalidations_queued;
  prometheus::Counter* invalidations_fallback;
  prometheus::Counter* invalidations_applied;
  prometheus::Gauge* invalidation_queue_depth;
  prometheus::Counter* promotions_promoted;
  prometheus::Counter* promotions_skipped;
  prometheus::Gauge* writer_queue_depth;
  prometheus::Histogram* writer_group_writes;
  prometheus::Histogram* writer_queue_wait;
  prometheus::Counter* writer_refused_;
  prometheus::Counter* spans_recorded;
  prometheus::Counter* spans_exported_;
  prometheus::Counter* export_retries;
  prometheus::Counter* spans_dropped_by[4];

private:
  std::uint64_t id_ = 0; // unique per object in the process: keys the per-thread series caches
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<process_collector> process_;
};

} // namespace booking
