#include "telemetry/metrics.hpp"

#include <atomic>

#include <prometheus/text_serializer.h>

#include "telemetry/process_metrics.hpp"

#ifndef BOOKING_VERSION
#define BOOKING_VERSION "0.0.0"
#endif

namespace booking {

using namespace prometheus;

const char* build_version() { return BOOKING_VERSION; }

const char* to_string(cache_result r) {
  switch (r) {
    case cache_result::hit: return "hit";
    case cache_result::miss: return "miss";
    case cache_result::coalesced: return "coalesced";
  }
  return "unknown";
}

const char* to_string(span_drop d) {
  switch (d) {
    case span_drop::queue_full: return "queue_full";
    case span_drop::retries_exhausted: return "retries_exhausted";
    case span_drop::non_retryable: return "non_retryable";
    case span_drop::rejected: return "rejected";
  }
  return "unknown";
}

Histogram::BucketBoundaries metrics::duration_buckets() {
  return {0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01,
          0.025,    0.05,    0.1,    0.25,    0.5,    1,     2.5,   5};
}

void metrics::writer_group(std::size_t writes, const double* waits) {
  writer_group_writes->Observe(static_cast<double>(writes));
  for (std::size_t i = 0; i < writes; ++i)
    writer_queue_wait->Observe(waits[i]);
}

metrics::metrics()
  : http_requests("booking_http_requests_total", "HTTP requests by route, method and status", {"route", "method", "status"}),
    http_duration("booking_http_request_duration_seconds", "HTTP request duration by route", {"route"}, duration_buckets()),
    cache_requests("booking_cache_requests_total", "Cache lookups by cache and result", {"cache", "result"}),
    registry_(std::make_shared<Registry>()), process_(std::make_unique<process_collector>()) {
  static std::atomic<std::uint64_t> made{0};
  id_ = ++made;
  auto& r = *registry_;
  inflight = &BuildGauge().Name("booking_inflight_requests").Help("HTTP requests being served").Register(r).Add({});
  rejected_family = &BuildCounter().Name("booking_rejected_requests_total").Help("Requests refused before routing, by reason").Register(r);
  for (auto reason : {"overloaded", "guard", "rate_limited", "shutting_down"})
    rejected_family->Add({{"reason", reason}});

  auto& loads = BuildCounter().Name("booking_store_loads_total").Help("Store loads by kind").Register(r);
  loads_user_page = &loads.Add({{"kind", "user_page"}});
  loads_locations = &loads.Add({{"kind", "locations"}});
  store_errors = &BuildCounter().Name("booking_store_errors_total").Help("Store calls that failed").Register(r).Add({});

  page_hit = &cache_requests.add({"user_page", "hit"});
  page_miss = &cache_requests.add({"user_page", "miss"});
  page_coalesced = &cache_requests.add({"user_page", "coalesced"});
  locations_hit = &cache_requests.add({"locations", "hit"});
  locations_miss = &cache_requests.add({"locations", "miss"});
  locations_coalesced = &cache_requests.add({"locations", "coalesced"});
  user_actors = &BuildGauge().Name("booking_user_actors").Help("Live per-user cache actors").Register(r).Add({});
  auto& evict = BuildCounter().Name("booking_user_evictions_total").Help("User actors stopped, by reason").Register(r);
  user_evictions_idle = &evict.Add({{"reason", "idle"}});
  user_evictions_capacity = &evict.Add({{"reason", "capacity"}});

  auto& inv = BuildCounter().Name("booking_invalidations_total").Help("Cache invalidations by path").Register(r);
  invalidations_queued = &inv.Add({{"result", "queued"}});
  invalidations_fallback = &inv.Add({{"result", "fallback"}});
  invalidations_applied = &inv.Add({{"result", "applied"}});
  invalidation_queue_depth = &BuildGauge().Name("booking_invalidation_queue_depth").Help("Invalidations waiting in the pool").Register(r).Add({});

  writer_queue_depth = &BuildGauge().Name("booking_store_writer_queue_depth")
                          .Help("Members' writes queued for the store writer's next group").Register(r).Add({});
  writer_group_writes = &BuildHistogram().Name("booking_store_writer_group_writes")
                           .Help("Writes per group the store writer committed in one transaction").Register(r)
                           .Add({}, Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64});
  writer_queue_wait = &BuildHistogram().Name("booking_store_writer_queue_wait_seconds")
                         .Help("Time a member's write waited in the queue before its group started").Register(r)
                         .Add({}, duration_buckets());
  writer_refused_ = &BuildCounter().Name("booking_store_writer_refused_total")
                       .Help("Members' writes not started within the queue timeout (answered 503)").Register(r).Add({});

  auto& promotions = BuildCounter().Name("booking_waitlist_promotions_total").Help("Waitlist entries taken by promotion, by outcome").Register(r);
  promotions_promoted = &promotions.Add({{"result", "promoted"}});
  promotions_skipped = &promotions.Add({{"result", "skipped"}});

  BuildGauge().Name("booking_build_info").Help("The running build; always 1").Register(r).Add({{"version", build_version()}}).Set(1);

  auto& spans = BuildCounter().Name("booking_trace_spans_total").Help("Sampled spans by outcome").Register(r);
  spans_recorded = &spans.Add({{"result", "recorded"}});
  spans_exported_ = &spans.Add({{"result", "exported"}});
  auto& dropped = BuildCounter().Name("booking_trace_spans_dropped_total").Help("Sampled spans that never reached the collector, by reason").Register(r);
  for (auto d : {span_drop::queue_full, span_drop::retries_exhausted, span_drop::non_retryable, span_drop::rejected})
    spans_dropped_by[static_cast<int>(d)] = &dropped.Add({{"reason", to_string(d)}});
  export_retries = &BuildCounter().Name("booking_trace_export_retries_total").Help("OTLP export attempts repeated after a retryable failure").Register(r).Add({});
}

metrics::~metrics() = default;

void metrics::cache(cache_name c, cache_result r) {
  static_assert(static_cast<int>(cache_result::hit) == 0 && static_cast<int>(cache_result::coalesced) == 2);
  striped_counter* const page[] = {page_hit, page_miss, page_coalesced};
  striped_counter* const locations[] = {locations_hit, locations_miss, locations_coalesced};
  (c == cache_name::user_page ? page : locations)[static_cast<int>(r)]->add();
}

void metrics::store_load(load_kind k) { (k == load_kind::user_page ? loads_user_page : loads_locations)->Increment(); }

void metrics::user_actor_stopped(eviction_reason why) {
  user_actors->Decrement();
  (why == eviction_reason::idle ? user_evictions_idle : user_evictions_capacity)->Increment();
}

void metrics::invalidation(invalidation_result r) {
  prometheus::Counter* const by[] = {invalidations_queued, invalidations_fallback, invalidations_applied};
  by[static_cast<int>(r)]->Increment();
}

void metrics::waitlist_promotion(promotion_result r) {
  (r == promotion_result::promoted ? promotions_promoted : promotions_skipped)->Increment();
}

void metrics::spans_dropped(span_drop why, double n) { spans_dropped_by[static_cast<int>(why)]->Increment(n); }

void metrics::rejected(std::string_view reason) { rejected_family->Add({{"reason", std::string(reason)}}).Increment(); }

void metrics::prepare_http(const std::vector<http_route>& routes) {
  for (auto& r : routes) {
    http_duration.add({r.route});
    for (auto& m : r.methods)
      for (auto s : r.statuses)
        http_requests.add({r.route, m, std::to_string(s)});
  }
}

void metrics::http_request(std::string_view route, std::string_view method, int status, double seconds) {
  // A family's `add` locks; a per-thread list of the few series this thread has seen avoids that,
  // and a lookup allocates nothing.
  struct series {
    std::string route;
    std::string method;
    int status;
    striped_counter* counter;
    striped_histogram* duration;
  };
  thread_local std::vector<series> seen;
  thread_local std::uint64_t owner = 0; // by id, not address: a later object may reuse an address
  if (owner != id_) {
    seen.clear();
    owner = id_;
  }
  for (auto& s : seen)
    if (s.status == status && s.route == route && s.method == method) {
      s.counter->add();
      s.duration->observe(seconds);
      return;
    }
  std::string rt{route}, m{method};
  auto& c = http_requests.add({rt, m, std::to_string(status)});
  auto& h = http_duration.add({rt});
  seen.push_back(series{std::move(rt), std::move(m), status, &c, &h});
  c.add();
  h.observe(seconds);
}

std::string metrics::serialize() const {
  std::vector<MetricFamily> families{http_requests.collect(), http_duration.collect(), cache_requests.collect()};
  auto registered = registry_->Collect();
  families.insert(families.end(), registered.begin(), registered.end());
  auto process = process_->Collect();
  families.insert(families.end(), process.begin(), process.end());
  TextSerializer s;
  return s.Serialize(families);
}

} // namespace booking
