// Named defaults of the actor core (pool sizes, timeouts), in one place.
#pragma once

#include <chrono>
#include <algorithm>
#include <cstddef>
#include <thread>

namespace booking::defaults {

/// How long a cached user page stays fresh without a write. A safety net, not the freshness
/// mechanism: every change through the service fences the epochs of every member it affects and
/// cleans their caches before its 2xx, location changes replace the published list, and a class
/// starting re-renders. What only the TTL bounds: rows changed behind the service's back (an operator
/// with sqlite3). An hour keeps an active member's page cached across their visits of a day.
constexpr std::chrono::seconds cache_ttl{3600};
/// A user actor that saw no request for this long stops (and its memory with it).
constexpr std::chrono::seconds cache_idle{1800};
/// At most this many user actors live at once (least recently used go first).
constexpr std::size_t cache_max_users = 200000;
/// How often the directories look for idle user actors.
constexpr std::chrono::milliseconds idle_sweep_interval{1000};
/// How long the location list stays fresh.
constexpr std::chrono::seconds location_ttl{60};
constexpr std::size_t invalidation_workers = 5;
constexpr std::size_t invalidation_queue = 1000;
/// Directory shards: user ids are spread over them so no single actor sees every request.
constexpr std::size_t directory_shards = 4;
/// Threads (each with its own SQLite connection) that run store loads: one per core, at least 2.
/// More threads than cores only add context switches to a cold load (docs/BENCHMARKS.md: 8 threads
/// on 2 cores gave 3-6 % fewer cold pages per second and a higher p99 than 2).
inline std::size_t store_threads() { return std::max<std::size_t>(2, std::thread::hardware_concurrency()); }
/// The longest an HTTP thread waits for an actor's answer before replying 503.
constexpr std::chrono::milliseconds reply_timeout{5000};
/// The longest shutdown waits for the invalidation queue to drain.
constexpr std::chrono::milliseconds drain_timeout{5000};
/// How long core's destructor waits for its actors to finish exiting before what they share goes.
constexpr std::chrono::milliseconds actors_stop_timeout{5000};
/// Rendered bodies a user actor keeps per snapshot (distinct language / range pairs).
constexpr std::size_t rendered_per_user = 4;

} // namespace booking::defaults
