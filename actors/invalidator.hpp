// The invalidation pool: `workers` actors fed with cleanup messages after writes, bounded at
// `capacity` queued messages. When full, the cleanup goes straight to the user's directory (the
// fallback path) and is counted: nothing is dropped. Read-your-writes never depends on this pool
// (see write_epochs.hpp); it frees stale cache memory promptly.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "actors/interfaces.hpp"
#include "telemetry/metrics.hpp"
#include "telemetry/span.hpp"
#include "telemetry/tracer.hpp"

namespace booking {

class invalidation_pool;

struct invalidator_state {
  static inline const char* name = "invalidator";
  invalidation_pool* pool = nullptr;
};

invalidator_actor::behavior_type invalidator(invalidator_actor::stateful_pointer<invalidator_state> self,
                                             invalidation_pool* pool);

class invalidation_pool {
public:
  using route = std::function<user_directory_actor(id_type)>;

  invalidation_pool(caf::actor_system& sys, std::size_t workers, std::size_t capacity, route to_directory,
                    metrics& m, tracer* tracing = nullptr);

  /// Called by HTTP threads after a committed write; never blocks. `parent`: the write's trace, if
  /// any (the hand-off and every hop of the cleanup are then spans of it, when it is sampled).
  /// `written`: the snapshot the user's own write left, handed to their cache (else empty).
  void post(id_type user, const trace_context* parent = nullptr, written_snapshot written = {});
  /// Waits (bounded) until every queued invalidation was handed on; true when drained.
  bool drain(std::chrono::milliseconds timeout);
  std::int64_t depth() const { return depth_.load(); }
  std::uint64_t fallbacks() const { return fallbacks_.load(); }
  void stop();

  /// A worker handed one invalidation on.
  void done(id_type user, const hop& h, written_snapshot written);
  tracer* tracing() const { return tracing_; }

private:
  std::vector<invalidator_actor> workers_;
  std::size_t capacity_;
  route to_directory_;
  metrics& m_;
  tracer* tracing_;
  std::atomic<std::int64_t> depth_{0};
  std::atomic<std::uint64_t> fallbacks_{0};
};

} // namespace booking
