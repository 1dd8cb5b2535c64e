// Fixtures for actor tests: a deterministic CAF scheduler with a manual store pool, or a real one.
#pragma once

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <nlohmann/json.hpp>

#include "actors/core.hpp"
#include "fixtures.hpp"

namespace booking::test {

inline caf::actor_system_config& testing_config(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  return cfg;
}

/// Seeds a small database with users that each hold one upcoming booking.
struct actor_db : small_db {
  std::vector<id_type> users;
  std::vector<id_type> spare_sessions;
  explicit actor_db(int n_users) {
    auto now = now_seconds();
    auto s = add_session(now + std::chrono::hours{72}, 100000);
    for (int i = 0; i < n_users; ++i) {
      users.push_back(add_user(10, 3));
      db.book(users.back(), s, now);
    }
    for (int i = 0; i < 8; ++i)
      spare_sessions.push_back(add_session(now + std::chrono::hours{96 + i}, 100000));
  }
};

inline page_query query_for(core& c, id_type user) {
  page_query q;
  q.user_id = user;
  q.language = lang::en;
  auto today = c.tz().today(now_seconds());
  q.range = date_range{monday_of(today), monday_of(today) + date::days{27}};
  q.epoch = c.epochs().current(user);
  return q;
}

/// `stats.upcoming` of a rendered page, or -1.
inline int upcoming_of(const body_result& r) {
  if (!r.body)
    return -1;
  return nlohmann::json::parse(*r.body)["stats"]["upcoming"].get<int>();
}

/// Deterministic: the test decides when actors run (`sched.run()`) and when loads run (`pool().run_pending()`).
struct deterministic {
  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  metrics m;
  std::unique_ptr<core> c;

  explicit deterministic(const std::string& db_path) : deterministic(db_path, core_options{}) {}
  deterministic(const std::string& db_path, const core_options& given)
    : sys(testing_config(cfg)), sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())) {
    auto o = given;
    o.store.path = db_path;
    o.store_threads = 0;
    c = std::make_unique<core>(sys, o, m);
    settle();
  }

  ~deterministic() {
    c->shutdown(std::chrono::milliseconds{0});
    settle();
  }

  /// Runs actors and loads until nothing is left to do.
  void settle() {
    for (int i = 0; i < 1000; ++i) {
      auto ran = sched.run();
      ran += c->pool().run_pending();
      if (ran == 0)
        return;
    }
  }

  slot_ptr ask(id_type user) {
    auto slot = std::make_shared<reply_slot>();
    caf::anon_send(c->directory_for(user), page_atom::value, query_for(*c, user), reply_ptr{slot});
    return slot;
  }
};

inline body_result take(const slot_ptr& s) {
  auto r = s->wait_for(std::chrono::milliseconds{0});
  return r ? *r : body_result{nullptr, error_code::internal};
}

inline bool answered(const slot_ptr& s) { return s->wait_for(std::chrono::milliseconds{0}).has_value(); }

/// An actor requester (as a test or a tool is): its replies are `actor_reply`s, answered as messages to
/// its mailbox, received with a bounded wait.
struct actor_requester {
  caf::scoped_actor self;
  std::uint64_t last_id = 0;

  explicit actor_requester(caf::actor_system& sys) : self(sys) {}

  /// A reply answered to this actor, with the next id.
  reply_ptr reply() { return std::make_shared<actor_reply>(caf::actor{self}, ++last_id); }

  /// The answers that arrived, by their reply's id: at most `n`, waiting at most `timeout` in all.
  std::map<std::uint64_t, body_result> receive(std::size_t n, std::chrono::milliseconds timeout) {
    std::map<std::uint64_t, body_result> got;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    bool timed_out = false;
    while (got.size() < n && !timed_out) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      self->receive([&](result_atom, std::uint64_t id, body_result& r) { got.emplace(id, std::move(r)); },
                    caf::after(std::max(left, std::chrono::milliseconds{0})) >> [&] { timed_out = true; });
    }
    return got;
  }

  /// The answer to one reply, or `internal` when none came in time.
  body_result receive_one(std::chrono::milliseconds timeout) {
    auto got = receive(1, timeout);
    return got.empty() ? body_result{nullptr, error_code::internal} : got.begin()->second;
  }
};

} // namespace booking::test
