// The bridge from cpp-httplib's threads to the actors, and to the store for the calls HTTP
// threads make themselves (writes, token and session lookups: these threads are not CAF
// scheduler threads, so blocking there stalls no actor).
//
// A request to an actor carries a `reply_slot`; the HTTP thread waits on it with a deadline.
// No actor is spawned and no CAF timer is set per request.
#pragma once

#include <chrono>

#include "actors/core.hpp"

namespace booking {

class bridge {
public:
  bridge(core& c, store_options opts, std::chrono::milliseconds reply_timeout);

  /// The caller's page (coalesced in the user's actor); `unavailable` when no answer in time.
  body_result page(page_query q);
  /// `{"locations": [...]}` from the location cache.
  body_result locations(const hop& trace);
  /// This thread's own store connection (opened on first use).
  store& local_store();
  core& actors() { return core_; }
  const store_options& options() const { return opts_; }

private:
  body_result wait(const slot_ptr& slot);

  core& core_;
  store_options opts_;
  std::chrono::milliseconds timeout_;
  std::uint64_t id_;
};

} // namespace booking
