// The bridge from cpp-httplib's threads to the actors, and to the store for the calls HTTP
// threads make themselves (writes, token and session lookups: these threads are not CAF
// scheduler threads, so blocking there stalls no actor). Those calls borrow one of a few pooled
// SQLite connections: a connection per HTTP thread would cost memory per thread ever used.
//
// A request to an actor carries a `reply_slot`; the HTTP thread waits on it with a deadline.
// No actor is spawned and no CAF timer is set per request.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "actors/core.hpp"

namespace booking {

class bridge {
public:
  bridge(core& c, store_options opts, std::chrono::milliseconds reply_timeout, std::size_t connections = 16);

  /// The caller's page (coalesced in the user's actor); `unavailable` when no answer in time.
  body_result page(page_query q);
  /// `{"locations": [...]}` from the location cache.
  body_result locations(const hop& trace);
  /// Reloads the location list and waits (bounded) until every directory has been sent it.
  body_result refresh_locations();
  /// A pooled store connection, returned when the lease ends.
  class lease {
  public:
    lease(bridge& b, std::unique_ptr<store> s);
    lease(lease&& other) noexcept = default;
    ~lease();
    store* operator->() { return s_.get(); }
    store& operator*() { return *s_; }

  private:
    bridge* b_;
    std::unique_ptr<store> s_;
  };

  /// Borrows a connection (opening one if fewer than the pool size exist); waits at most the
  /// reply timeout for one to come back, then throws sql::error (busy: answered with 503).
  lease borrow_store();
  core& actors() { return core_; }
  const store_options& options() const { return opts_; }

private:
  body_result wait(const slot_ptr& slot);

  core& core_;
  store_options opts_;
  std::chrono::milliseconds timeout_;
  std::mutex pool_m_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<store>> idle_;
  std::size_t opened_ = 0;
  std::size_t max_connections_;
};

} // namespace booking
