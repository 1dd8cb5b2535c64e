#include "actors/metrics.hpp"

#include <prometheus/text_serializer.h>

namespace booking {

using namespace prometheus;

Histogram::BucketBoundaries metrics::duration_buckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
}

metrics::metrics() : registry_(std::make_shared<Registry>()) {
  auto& r = *registry_;
  http_requests = &BuildCounter().Name("booking_http_requests_total").Help("HTTP requests by route, method and status").Register(r);
  http_duration = &BuildHistogram().Name("booking_http_request_duration_seconds").Help("HTTP request duration by route").Register(r);
  inflight = &BuildGauge().Name("booking_inflight_requests").Help("HTTP requests being served").Register(r).Add({});
  rejected = &BuildCounter().Name("booking_rejected_requests_total").Help("Requests refused before routing, by reason").Register(r);
  for (auto reason : {"overloaded", "guard", "rate_limited", "shutting_down"})
    rejected->Add({{"reason", reason}});

  auto& loads = BuildCounter().Name("booking_store_loads_total").Help("Store loads by kind").Register(r);
  loads_user_page = &loads.Add({{"kind", "user_page"}});
  loads_locations = &loads.Add({{"kind", "locations"}});
  store_errors = &BuildCounter().Name("booking_store_errors_total").Help("Store calls that failed").Register(r).Add({});

  auto& cache = BuildCounter().Name("booking_cache_requests_total").Help("Cache lookups by cache and result").Register(r);
  page_hit = &cache.Add({{"cache", "user_page"}, {"result", "hit"}});
  page_miss = &cache.Add({{"cache", "user_page"}, {"result", "miss"}});
  page_coalesced = &cache.Add({{"cache", "user_page"}, {"result", "coalesced"}});
  locations_hit = &cache.Add({{"cache", "locations"}, {"result", "hit"}});
  locations_miss = &cache.Add({{"cache", "locations"}, {"result", "miss"}});
  cache.Add({{"cache", "locations"}, {"result", "coalesced"}});
  user_actors = &BuildGauge().Name("booking_user_actors").Help("Live per-user cache actors").Register(r).Add({});
  auto& evict = BuildCounter().Name("booking_user_evictions_total").Help("User actors stopped, by reason").Register(r);
  user_evictions_idle = &evict.Add({{"reason", "idle"}});
  user_evictions_capacity = &evict.Add({{"reason", "capacity"}});

  auto& inv = BuildCounter().Name("booking_invalidations_total").Help("Cache invalidations by path").Register(r);
  invalidations_queued = &inv.Add({{"result", "queued"}});
  invalidations_fallback = &inv.Add({{"result", "fallback"}});
  invalidations_applied = &inv.Add({{"result", "applied"}});
  invalidation_queue_depth = &BuildGauge().Name("booking_invalidation_queue_depth").Help("Invalidations waiting in the pool").Register(r).Add({});

  auto& promotions = BuildCounter().Name("booking_waitlist_promotions_total").Help("Waitlist entries promoted or skipped by promotion").Register(r);
  waitlist_promoted = &promotions.Add({{"result", "promoted"}});
  waitlist_skipped = &promotions.Add({{"result", "skipped"}});

  auto& spans = BuildCounter().Name("booking_trace_spans_total").Help("Sampled spans by outcome").Register(r);
  spans_recorded = &spans.Add({{"result", "recorded"}});
  spans_dropped = &spans.Add({{"result", "dropped"}});
}

std::string metrics::serialize() const {
  TextSerializer s;
  return s.Serialize(registry_->Collect());
}

} // namespace booking
