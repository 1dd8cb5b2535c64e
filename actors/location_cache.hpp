// The location-cache actor: owns the location list (no shared map, no mutex). Refreshes on TTL
// or on request through the store pool, and publishes each new list to the directories.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "actors/context.hpp"
#include "actors/interfaces.hpp"
#include "telemetry/child_span.hpp"

namespace booking {

struct location_cache_state {
  static inline const char* name = "location_cache";

  struct waiter {
    reply_ptr reply;
    child_span span; // this hop, when the request is sampled
  };

  location_cache_actor::stateful_pointer<location_cache_state> self = nullptr;
  std::shared_ptr<const cache_context> ctx;
  std::vector<user_directory_actor> subscribers;
  location_list list;
  body_ptr body; // `{"locations": [...]}`
  std::chrono::steady_clock::time_point loaded_at;
  bool loading = false;
  std::vector<waiter> waiters;
  /// Forced refreshes answered by the load in flight (it began after they arrived).
  std::vector<reply_ptr> covered_refreshes;
  /// Forced refreshes that arrived while a load was in flight: they need the next one.
  std::vector<reply_ptr> pending_refreshes;

  void on_get(waiter w);
  void refresh();
  void refresh_now(reply_ptr done);
  void on_loaded(location_list fresh);

private:
  void answer(waiter& w);
  child_span refresh_span() const;
};

location_cache_actor::behavior_type location_cache(location_cache_actor::stateful_pointer<location_cache_state> self,
                                                   std::shared_ptr<const cache_context> ctx,
                                                   std::vector<user_directory_actor> subscribers);

} // namespace booking
