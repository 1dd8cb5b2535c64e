// The Prometheus families of SPEC §7 (prometheus-cpp core registry). Every family exists from
// start-up with zero-valued series for its known label values. No user ids in labels.
#pragma once

#include <memory>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace booking {

class metrics {
public:
  metrics();

  /// Text exposition of every family.
  std::string serialize() const;

  prometheus::Registry& registry() { return *registry_; }

  // HTTP front-end.
  prometheus::Family<prometheus::Counter>* http_requests;
  prometheus::Family<prometheus::Histogram>* http_duration;
  prometheus::Gauge* inflight;
  prometheus::Family<prometheus::Counter>* rejected;

  // Store.
  prometheus::Counter* loads_user_page;
  prometheus::Counter* loads_locations;
  prometheus::Counter* store_errors;

  // Caches.
  prometheus::Counter* page_hit;
  prometheus::Counter* page_miss;
  prometheus::Counter* page_coalesced;
  prometheus::Counter* locations_hit;
  prometheus::Counter* locations_miss;
  prometheus::Gauge* user_actors;
  prometheus::Counter* user_evictions_idle;
  prometheus::Counter* user_evictions_capacity;

  // Invalidation.
  prometheus::Counter* invalidations_queued;
  prometheus::Counter* invalidations_fallback;
  prometheus::Counter* invalidations_applied;
  prometheus::Gauge* invalidation_queue_depth;

  // Waitlist promotions (SPEC §3), counted by the HTTP layer after the write commits.
  prometheus::Counter* waitlist_promoted;
  prometheus::Counter* waitlist_skipped;

  // Tracing.
  prometheus::Counter* spans_recorded;
  prometheus::Counter* spans_dropped;

  /// Buckets of request durations in seconds.
  static prometheus::Histogram::BucketBoundaries duration_buckets();

private:
  std::shared_ptr<prometheus::Registry> registry_;
};

} // namespace booking
