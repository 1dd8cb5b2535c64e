#include "actors/invalidator.hpp"

#include <thread>

#include <caf/all.hpp>

namespace booking {

invalidator_actor::behavior_type invalidator(invalidator_actor::stateful_pointer<invalidator_state> self,
                                             invalidation_pool* pool) {
  self->state.pool = pool;
  return {
    [self](invalidate_atom, id_type user) { self->state.pool->done(user); },
  };
}

invalidation_pool::invalidation_pool(caf::actor_system& sys, std::size_t workers, std::size_t capacity,
                                     route to_directory, metrics& m)
  : capacity_(capacity), to_directory_(std::move(to_directory)), m_(m) {
  for (std::size_t i = 0; i < std::max<std::size_t>(1, workers); ++i)
    workers_.push_back(sys.spawn(invalidator, this));
}

void invalidation_pool::post(id_type user) {
  if (depth_.fetch_add(1) < static_cast<std::int64_t>(capacity_)) {
    m_.invalidation(invalidation_result::queued);
    m_.invalidation_queue(+1);
    // One user always goes to the same worker: that user's invalidations stay in order.
    caf::anon_send(workers_[static_cast<std::uint64_t>(user) % workers_.size()], invalidate_atom::value, user);
    return;
  }
  depth_.fetch_sub(1);
  fallbacks_.fetch_add(1);
  m_.invalidation(invalidation_result::fallback);
  caf::anon_send(to_directory_(user), invalidate_atom::value, user);
}

void invalidation_pool::done(id_type user) {
  caf::anon_send(to_directory_(user), invalidate_atom::value, user);
  depth_.fetch_sub(1);
  m_.invalidation_queue(-1);
}

bool invalidation_pool::drain(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (depth_.load() > 0) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

void invalidation_pool::stop() {
  for (auto& w : workers_)
    caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
}

} // namespace booking
