#include "actors/invalidator.hpp"

#include <thread>

#include <caf/all.hpp>

#include "telemetry/child_span.hpp"

namespace booking {

invalidator_actor::behavior_type invalidator(invalidator_actor::stateful_pointer<invalidator_state> self,
                                             invalidation_pool* pool) {
  self->state.pool = pool;
  return {
    [self](invalidate_atom, id_type user, const hop& h, written_snapshot& w) {
      child_span span{self->state.pool->tracing(), "invalidator invalidate", h, span_kind::consumer};
      self->state.pool->done(user, h, std::move(w));
    },
  };
}

invalidation_pool::invalidation_pool(caf::actor_system& sys, std::size_t workers, std::size_t capacity,
                                     route to_directory, metrics& m, tracer* tracing)
  : capacity_(capacity), to_directory_(std::move(to_directory)), m_(m), tracing_(tracing) {
  for (std::size_t i = 0; i < std::max<std::size_t>(1, workers); ++i)
    workers_.push_back(sys.spawn(invalidator, this));
}

void invalidation_pool::post(id_type user, const trace_context* parent, written_snapshot written) {
  // The hand-off is a PRODUCER span of the write's trace (when it is sampled); every hop after it
  // is its CONSUMER.
  child_span span;
  if (parent)
    span = child_span{tracing_, "invalidation_pool post", *parent, span_kind::producer};
  auto h = span ? span.hand_off() : hop{};
  if (depth_.fetch_add(1) < static_cast<std::int64_t>(capacity_)) {
    m_.invalidation(invalidation_result::queued);
    m_.invalidation_queue(+1);
    // One user always goes to the same worker: that user's invalidations stay in order.
    caf::anon_send(workers_[static_cast<std::uint64_t>(user) % workers_.size()], invalidate_atom::value, user, h,
                   std::move(written));
    return;
  }
  depth_.fetch_sub(1);
  fallbacks_.fetch_add(1);
  m_.invalidation(invalidation_result::fallback);
  span.set("booking.invalidation.fallback", true);
  caf::anon_send(to_directory_(user), invalidate_atom::value, user, h, std::move(written));
}

void invalidation_pool::done(id_type user, const hop& h, written_snapshot written) {
  caf::anon_send(to_directory_(user), invalidate_atom::value, user, hop::sent(h.ctx), std::move(written));
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
