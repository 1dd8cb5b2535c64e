// What every actor of the core shares: long-lived services owned by `core`, never mutated by actors.
#pragma once

#include <chrono>
#include <cstddef>

#include "actors/published_pages.hpp"
#include "actors/store_pool.hpp"
#include "actors/write_epochs.hpp"
#include "model/time_zone.hpp"
#include "telemetry/metrics.hpp"
#include "telemetry/tracer.hpp"

namespace booking {

struct cache_context {
  store_pool* pool = nullptr;
  const zone* tz = nullptr;
  ::booking::metrics* metrics = nullptr;
  write_epochs* epochs = nullptr;
  tracer* tracing = nullptr; // null: no spans
  published_pages* published = nullptr; // what HTTP threads may serve without a message
  std::chrono::seconds ttl{30};
  std::chrono::seconds idle{300};
  std::size_t max_users = 200000; // per directory shard
  std::chrono::seconds location_ttl{60};
};

} // namespace booking
