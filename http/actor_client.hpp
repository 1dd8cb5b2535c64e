// The HTTP threads' client of the actors: page, location and refresh requests. A request carries a
// `reply_slot`; the HTTP thread waits on it with the reply deadline. No actor is spawned and no CAF
// timer is set per request. A page the user's actor published is answered without a message.
#pragma once

#include <chrono>

#include "actors/core.hpp"

namespace booking {

class actor_client {
public:
  actor_client(::booking::core& c, std::chrono::milliseconds reply_timeout);

  /// The caller's page (coalesced in the user's actor); `unavailable` when no answer in time.
  body_result page(page_query q);
  /// `{"locations": [...]}` from the location cache.
  body_result locations(const hop& trace);
  /// Reloads the location list and waits (bounded) until every directory has been sent it.
  body_result refresh_locations();
  ::booking::core& core() { return core_; }

private:
  body_result wait(const slot_ptr& slot);

  ::booking::core& core_;
  std::chrono::milliseconds timeout_;
};

} // namespace booking
