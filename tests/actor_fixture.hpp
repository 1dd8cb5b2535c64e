// Fixtures for actor tests: a deterministic CAF scheduler with a manual store pool, or a real one.
#pragma once

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
    caf::anon_send(c->directory_for(user), page_atom::value, query_for(*c, user), slot);
    return slot;
  }
};

inline body_result take(const slot_ptr& s) {
  auto r = s->wait_for(std::chrono::milliseconds{0});
  return r ? *r : body_result{nullptr, error_code::internal};
}

inline bool answered(const slot_ptr& s) { return s->wait_for(std::chrono::milliseconds{0}).has_value(); }

} // namespace booking::test
