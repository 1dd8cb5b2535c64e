#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <numeric>
#include <thread>

#include "actor_fixture.hpp"
#include "actors/store_pool.hpp"
#include "actors/user_cache.hpp"
#include "actors/user_directory.hpp"

using namespace booking;
using namespace booking::test;
using namespace std::chrono_literals;

TEST_CASE("1000 concurrent requests for one cold user cause one store load (deterministic)") {
  actor_db data{3};
  deterministic t{data.path};
  auto user = data.users[0];
  std::vector<slot_ptr> slots;
  for (int i = 0; i < 1000; ++i)
    slots.push_back(t.ask(user));
  t.sched.run();
  CHECK(t.c->pool().queued() == 1); // one load queued, 999 requests parked
  for (auto& s : slots)
    CHECK(!answered(s));
  t.settle();
  for (auto& s : slots)
    CHECK(upcoming_of(take(s)) == 1);
  CHECK(t.m.loads_user_page->Value() == 1);
  CHECK(t.m.page_miss->value() == 1);
  CHECK(t.m.page_coalesced->value() == 999);
  // Warm now: more requests are hits, no new load.
  auto again = t.ask(user);
  t.settle();
  CHECK(upcoming_of(take(again)) == 1);
  CHECK(t.m.loads_user_page->Value() == 1);
  CHECK(t.m.page_hit->value() == 1);
}

TEST_CASE("one reply type: HTTP slots and actor requesters park on one load; the first delivery wins") {
  SUBCASE("both kinds of requester coalesce (deterministic)") {
    actor_db data{1};
    deterministic t{data.path};
    actor_requester self{t.sys};
    auto user = data.users[0];
    std::vector<slot_ptr> slots;
    for (int i = 0; i < 10; ++i) {
      slots.push_back(t.ask(user));
      caf::anon_send(t.c->directory_for(user), page_atom::value, query_for(*t.c, user), self.reply());
    }
    t.sched.run();
    CHECK(t.c->pool().queued() == 1);
    CHECK(self.receive(1, 0ms).empty()); // parked, not answered
    t.settle();
    auto answers = self.receive(10, 0ms);
    CHECK(answers.size() == 10);
    for (auto& kv : answers)
      CHECK(upcoming_of(kv.second) == 1);
    for (auto& s : slots)
      CHECK(upcoming_of(take(s)) == 1);
    CHECK(t.m.loads_user_page->Value() == 1);
    CHECK(t.m.page_coalesced->value() == 19);
    caf::anon_send(t.c->directory_for(777777), page_atom::value, query_for(*t.c, 777777), self.reply());
    t.settle();
    CHECK(self.receive_one(0ms).error == error_code::not_found);
  }
  SUBCASE("a slot keeps the first result") {
    auto slot = std::make_shared<reply_slot>();
    CHECK(!slot->wait_for(0ms));
    slot->deliver(body_result{nullptr, error_code::not_found});
    slot->deliver(body_result{nullptr, error_code::unavailable});
    auto r = slot->wait_for(0ms);
    REQUIRE(r);
    CHECK(r->error == error_code::not_found);
  }
  SUBCASE("an actor requester gets one message") {
    caf::actor_system_config cfg;
    caf::actor_system sys{cfg};
    actor_requester self{sys};
    auto reply = self.reply();
    reply->deliver(body_result{nullptr, error_code::not_found});
    reply->deliver(body_result{nullptr, error_code::unavailable});
    auto got = self.receive(2, 200ms);
    REQUIRE(got.size() == 1);
    CHECK(got.begin()->second.error == error_code::not_found);
  }
}

TEST_CASE("a failing load answers every waiter with an error, then recovers") {
  actor_db data{1};
  deterministic t{data.path};
  auto user = data.users[0];
  std::vector<slot_ptr> slots;
  for (int i = 0; i < 50; ++i)
    slots.push_back(t.ask(user));
  t.sched.run();
  data.db.connection().exec("ALTER TABLE bookings RENAME TO bookings_gone");
  t.settle();
  for (auto& s : slots) {
    REQUIRE(answered(s));
    CHECK(take(s).error == error_code::unavailable);
  }
  CHECK(t.m.store_errors->Value() == 1);
  data.db.connection().exec("ALTER TABLE bookings_gone RENAME TO bookings");
  auto ok = t.ask(user);
  t.settle();
  CHECK(upcoming_of(take(ok)) == 1); // the failure was not cached
}

TEST_CASE("an unknown user is not_found for every waiter") {
  actor_db data{1};
  deterministic t{data.path};
  auto a = t.ask(777777), b = t.ask(777777);
  t.settle();
  CHECK(take(a).error == error_code::not_found);
  CHECK(take(b).error == error_code::not_found);
}

namespace {

// One scenario: events in a given order against one user, then the checks of SPEC §5.2 and §5.4.
//   R: a page request from before the write arrives (starts a load if cold)
//   F: the store runs every queued load (SQL happens now)
//   D: actors run: load results are delivered
//   W: a write commits and returns (epoch bumped, cleanup queued)
//   I: actors run: the cleanup reaches the user actor
//   Q: a page request sent after the write returned arrives
struct interleaving_result {
  bool ok = true;
  std::string why;
};

/// The state of the directory shard that holds `user` (deterministic scheduler: nothing runs meanwhile).
user_directory_state& directory_state(deterministic& t, id_type user) {
  return caf::actor_cast<user_directory_actor::stateful_pointer<user_directory_state>>(t.c->directory_for(user))->state;
}

/// What an HTTP thread would answer right now from the published pages (null: it asks the actor).
body_ptr published_now(deterministic& t, id_type user) {
  auto q = query_for(*t.c, user);
  auto& pub = t.c->published();
  return pub.find(user, q.epoch, q.language, q.range, pub.current_locations(), std::chrono::steady_clock::now(),
                  now_seconds())
    .body;
}

interleaving_result run_order(const std::string& order, bool warm) {
  actor_db data{1};
  deterministic t{data.path};
  auto user = data.users[0];
  if (warm) {
    auto w = t.ask(user);
    t.settle();
    if (upcoming_of(take(w)) != 1)
      return {false, "warm-up failed"};
  }
  slot_ptr before, after;
  bool written = false;
  for (char e : order) {
    switch (e) {
      case 'R': before = t.ask(user); t.sched.run(); break;
      case 'F': t.c->pool().run_pending(); break;
      case 'D': t.sched.run(); break;
      case 'W': {
        store writer{store_options{data.path, 5000}};
        auto r = writer.book(user, data.spare_sessions[0], now_seconds());
        if (r.error != error_code::none)
          return {false, "write failed"};
        t.c->after_write(user);
        written = true;
        break;
      }
      case 'I': t.sched.run(); break;
      case 'Q': after = t.ask(user); t.sched.run(); break;
    }
    // The published path, asked after every step: once the write returned, whatever it serves
    // shows the write (a body published from a load that raced the write is never served).
    if (auto body = published_now(t, user); body && written && upcoming_of(body_result{body, error_code::none}) != 2)
      return {false, std::string("the published page served pre-write data after step ") + e};
  }
  t.settle();
  auto final_page = t.ask(user);
  t.settle();
  if (!answered(before) || !answered(after) || !answered(final_page))
    return {false, "a request was never answered"};
  auto b = upcoming_of(take(before));
  if (b != 1 && b != 2)
    return {false, "pre-write request got neither state"};
  if (upcoming_of(take(after)) != 2)
    return {false, "request after the write saw pre-write data"};
  if (upcoming_of(take(final_page)) != 2)
    return {false, "stale data stayed in the cache"};
  auto published = published_now(t, user);
  if (!published || upcoming_of(body_result{published, error_code::none}) != 2)
    return {false, "the settled cache published no fresh page"};
  return {};
}

} // namespace

TEST_CASE("every interleaving of load-start / write / invalidation / load-finish leaves no stale page") {
  std::string events = "DFIQRW";
  std::sort(events.begin(), events.end());
  int explored = 0;
  do {
    auto pos = [&](char c) { return events.find(c); };
    if (!(pos('R') < pos('F') && pos('F') < pos('D') && pos('W') < pos('I') && pos('W') < pos('Q')))
      continue;
    for (bool warm : {false, true}) {
      auto r = run_order(events, warm);
      INFO("order " << events << (warm ? " (warm)" : " (cold)") << ": " << r.why);
      CHECK(r.ok);
      ++explored;
    }
  } while (std::next_permutation(events.begin(), events.end()));
  MESSAGE("interleavings explored: " << explored);
  CHECK(explored == 80);
}

TEST_CASE("published pages: epoch fence, raced loads, eviction, incarnations") {
  SUBCASE("an entry older than the caller's epoch is never served") {
    published_pages pub;
    auto inc = pub.next_incarnation();
    pub.claim(7, inc, {});
    auto e = std::make_shared<published_entry>();
    e->epoch = 3;
    e->fresh_until = std::chrono::steady_clock::now() + std::chrono::hours{1};
    date_range r{local_date{date::days{100}}, local_date{date::days{110}}};
    e->bodies.push_back(published_body{lang::en, r, nullptr, std::make_shared<const std::string>("page"),
                                       now_seconds() + std::chrono::hours{1}});
    pub.publish(7, inc, e);
    auto now = std::chrono::steady_clock::now();
    CHECK(pub.find(7, 3, lang::en, r, nullptr, now, now_seconds()).body);
    CHECK(pub.find(7, 2, lang::en, r, nullptr, now, now_seconds()).body);
    CHECK(!pub.find(7, 4, lang::en, r, nullptr, now, now_seconds()).body);       // a later write
    CHECK(!pub.find(7, 3, lang::zh_tw, r, nullptr, now, now_seconds()).body);    // another language
    CHECK(!pub.find(7, 3, lang::en, r, nullptr, now + std::chrono::hours{2}, now_seconds()).body); // TTL
    CHECK(!pub.find(7, 3, lang::en, r, nullptr, now, now_seconds() + std::chrono::hours{2}).body); // a class started
    std::vector<location> other;
    CHECK(!pub.find(7, 3, lang::en, r, &other, now, now_seconds()).body);        // another location list
    pub.release(7); // evicted
    CHECK(!pub.find(7, 3, lang::en, r, nullptr, now, now_seconds()).body);
    pub.publish(7, inc, e); // the evicted actor cannot put it back
    CHECK(!pub.find(7, 3, lang::en, r, nullptr, now, now_seconds()).body);
    auto inc2 = pub.next_incarnation();
    pub.claim(7, inc2, {});
    pub.publish(7, inc, e);   // nor can it overwrite its successor's slot
    CHECK(!pub.find(7, 3, lang::en, r, nullptr, now, now_seconds()).body);
    pub.publish(7, inc2, e);
    pub.withdraw(7, inc);     // nor withdraw it
    CHECK(pub.find(7, 3, lang::en, r, nullptr, now, now_seconds()).body);
  }
  SUBCASE("a load that raced a write publishes nothing a later request is served") {
    actor_db data{1};
    deterministic t{data.path};
    auto user = data.users[0];
    auto before = t.ask(user);
    t.sched.run();                 // the actor starts the load (epoch E read)
    t.c->pool().run_pending();     // the load's SQL runs: pre-write data
    store writer{store_options{data.path, 5000}};
    REQUIRE(writer.book(user, data.spare_sessions[0], now_seconds()).error == error_code::none);
    t.c->after_write(user);        // epoch E+1 before the 2xx
    t.sched.run();                 // the old load's result arrives and is published with epoch E
    CHECK(upcoming_of(take(before)) == 1);
    CHECK(!published_now(t, user)); // a request sent now reads E+1: not served from it
    t.settle();
    auto after = t.ask(user);
    t.settle();
    CHECK(upcoming_of(take(after)) == 2);
    REQUIRE(published_now(t, user));
    CHECK(upcoming_of(body_result{published_now(t, user), error_code::none}) == 2);
  }
  SUBCASE("an evicted user's entry is never served") {
    actor_db data{6};
    core_options o;
    o.cache_max_users = 3;
    o.directory_shards = 1;
    deterministic t{data.path, o};
    for (auto u : data.users) {
      t.ask(u);
      t.settle();
    }
    for (std::size_t i = 0; i < 3; ++i)
      CHECK_MESSAGE(!published_now(t, data.users[i]), "evicted user " << i);
    for (std::size_t i = 3; i < 6; ++i)
      CHECK(published_now(t, data.users[i]));
    CHECK(t.c->published().size() == 3);
  }
}

namespace {

/// A member's own write as the HTTP route makes it: the snapshot read in the write's transaction,
/// the epoch bumped after its COMMIT, then the cleanup that hands the snapshot on.
written_snapshot own_write(deterministic& t, const std::string& path, id_type user, id_type session) {
  store writer{store_options{path, 5000}};
  write_extras extras;
  extras.snapshot = true;
  auto out = writer.write(user, write_command{write_kind::book, session, {}}, now_seconds(), write_policy{}, nullptr,
                          {}, extras);
  REQUIRE(out.result.error == error_code::none);
  REQUIRE(out.snapshot);
  return written_snapshot{out.snapshot, t.c->epochs().bump(user)};
}

} // namespace

TEST_CASE("a member's own write hands their cache the snapshot it read: kept unless a later write was fenced") {
  actor_db data{1};
  deterministic t{data.path};
  auto user = data.users[0];
  SUBCASE("kept: the next page is answered from it, without a load") {
    t.ask(user);
    t.settle();
    auto w = own_write(t, data.path, user, data.spare_sessions[0]);
    t.c->after_own_write(user, w);
    t.sched.run();
    CHECK(!published_now(t, user)); // the old entry was withdrawn; none of the new snapshot yet
    auto after = t.ask(user);
    t.sched.run();
    CHECK(t.c->pool().run_pending() == 0); // no load
    REQUIRE(answered(after));
    CHECK(upcoming_of(take(after)) == 2);
    CHECK(upcoming_of(body_result{published_now(t, user), error_code::none}) == 2);
  }
  SUBCASE("dropped when a later write was fenced before it arrived: the next page loads") {
    t.ask(user);
    t.settle();
    auto w = own_write(t, data.path, user, data.spare_sessions[0]);
    // A second write (an admin's, say) commits and is fenced before the first's cleanup arrives.
    store other{store_options{data.path, 5000}};
    REQUIRE(other.book(user, data.spare_sessions[1], now_seconds()).error == error_code::none);
    t.c->after_write(user);
    t.c->after_own_write(user, w); // out of order: the older snapshot arrives last
    t.sched.run();
    auto after = t.ask(user);
    t.sched.run();
    CHECK(!answered(after));
    CHECK(t.c->pool().run_pending() == 1); // a load
    t.settle();
    REQUIRE(answered(after));
    CHECK(upcoming_of(take(after)) == 3);
  }
  SUBCASE("a load that began before the write does not replace the kept snapshot") {
    auto before = t.ask(user);
    t.sched.run(); // the load starts (epoch E read), its job still queued
    auto w = own_write(t, data.path, user, data.spare_sessions[0]);
    t.c->after_own_write(user, w);
    t.sched.run();                    // the cleanup arrives first: the snapshot is kept (epoch E+1)
    CHECK(t.c->pool().run_pending() == 1);
    t.sched.run();                    // then the load's result, of the older generation: not kept
    CHECK(answered(before));          // asked before the write, answered from the load
    auto after = t.ask(user);
    t.sched.run();
    CHECK(t.c->pool().run_pending() == 0);
    REQUIRE(answered(after));
    CHECK(upcoming_of(take(after)) == 2);
  }
}

TEST_CASE("a page rendered again when a class starts replaces the old body instead of keeping both") {
  actor_db data{1};
  auto user = data.users[0];
  // A booked class that starts within two seconds: the page rendered now is valid until then.
  auto starts = now_seconds() + std::chrono::seconds{2};
  auto soon = data.add_session(starts, 10);
  REQUIRE(data.db.book(user, soon, now_seconds() - std::chrono::hours{1}).error == error_code::none);
  deterministic t{data.path};
  auto bodies_kept = [&] {
    auto owner = t.c->published()
                   .find(user, 0, lang::en, query_for(*t.c, user).range, nullptr, std::chrono::steady_clock::now(),
                         now_seconds())
                   .owner;
    REQUIRE(owner);
    return caf::actor_cast<user_cache_actor::stateful_pointer<user_cache_state>>(owner)->state.bodies.size();
  };
  auto first = t.ask(user);
  t.settle();
  REQUIRE(upcoming_of(take(first)) == 2);
  CHECK(bodies_kept() == 1);
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (now_seconds() <= starts && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  REQUIRE(!published_now(t, user)); // the class started: the published body is past its validity
  auto again = t.ask(user);
  t.settle();
  CHECK(upcoming_of(take(again)) == 1);
  CHECK(bodies_kept() == 1); // the body of the same language and range was replaced
  CHECK(published_now(t, user));
}

TEST_CASE("a request sent straight to a user's actor that has stopped is answered through the directory") {
  actor_db data{2};
  core_options o;
  o.directory_shards = 1;
  o.cache_idle = 0s; // the directory's next idle sweep evicts every user
  deterministic t{data.path, o};
  auto user = data.users[0];
  auto first = t.ask(user);
  t.settle();
  REQUIRE(upcoming_of(take(first)) == 1);
  auto lookup = [&] {
    auto q = query_for(*t.c, user);
    auto& pub = t.c->published();
    return pub.find(user, q.epoch, lang::zh_tw, q.range, pub.current_locations(), std::chrono::steady_clock::now(),
                    now_seconds());
  };
  SUBCASE("a live actor answers without the directory") {
    auto found = lookup(); // another language: not published yet, but the slot names the actor
    REQUIRE(!found.body);
    REQUIRE(found.owner);
    auto slot = std::make_shared<reply_slot>();
    auto q = query_for(*t.c, user);
    q.language = lang::zh_tw;
    t.c->ask_page(q, reply_ptr{slot}, found.owner);
    t.settle();
    CHECK(upcoming_of(take(slot)) == 1);
    CHECK(t.m.user_actors->Value() == 1);
  }
  auto* st = &directory_state(t, user);
  SUBCASE("the stop is queued before the request: the actor exits, the directory answers it") {
    auto old = lookup().owner;
    REQUIRE(old);
    t.sched.trigger_timeouts();
    REQUIRE(t.sched.try_run_once()); // the directory's sweep: the actor's mailbox holds a stop
    CHECK(!lookup().owner);
    auto slot = std::make_shared<reply_slot>();
    t.c->ask_page(query_for(*t.c, user), reply_ptr{slot}, old);
    t.settle();
    REQUIRE(answered(slot));
    CHECK(upcoming_of(take(slot)) == 1);
    CHECK(st->users.count(user) == 1); // a new actor, spawned by the directory
  }
  SUBCASE("the actor exited before the request was sent: the directory answers it") {
    auto old = lookup().owner;
    REQUIRE(old);
    t.sched.trigger_timeouts(); // the directory's sweep
    t.settle();                 // the actor has exited
    CHECK(!lookup().owner);
    auto slot = std::make_shared<reply_slot>();
    t.c->ask_page(query_for(*t.c, user), reply_ptr{slot}, old);
    t.settle();
    CHECK(upcoming_of(take(slot)) == 1);
    CHECK(st->users.count(user) == 1); // a new actor, spawned by the directory
  }
}

TEST_CASE("eviction respects the cap, least recently used first") {
  actor_db data{30};
  core_options o;
  o.cache_max_users = 10;
  o.directory_shards = 1;
  deterministic t{data.path, o};
  for (auto u : data.users) {
    t.ask(u);
    t.settle();
  }
  auto* st = &directory_state(t, data.users[0]);
  CHECK(st->users.size() == 10);
  CHECK(t.m.user_evictions_capacity->Value() == 20);
  CHECK(t.m.user_actors->Value() == 10);
  // The ten most recent users are the ones kept.
  for (size_t i = 20; i < 30; ++i)
    CHECK(st->users.count(data.users[i]) == 1);
  // An evicted user is served again (a new actor, a new load).
  auto s = t.ask(data.users[0]);
  t.settle();
  CHECK(upcoming_of(take(s)) == 1);
  CHECK(st->users.size() == 10);
}

TEST_CASE("capacity eviction counts pages served from the published entries as use") {
  actor_db data{4};
  core_options o;
  o.cache_max_users = 3;
  o.directory_shards = 1;
  deterministic t{data.path, o};
  for (size_t i = 0; i < 3; ++i) {
    t.ask(data.users[i]);
    t.settle();
  }
  // User 0, the least recently seen by the directory, keeps being answered on the HTTP threads.
  std::this_thread::sleep_for(2ms);
  CHECK(published_now(t, data.users[0]));
  t.ask(data.users[3]); // a fourth user: one actor must go
  t.settle();
  auto* st = &directory_state(t, data.users[0]);
  CHECK(st->users.size() == 3);
  CHECK(t.m.user_evictions_capacity->Value() == 1);
  CHECK(st->users.count(data.users[0]) == 1); // in use, though the directory had not seen it
  CHECK(st->users.count(data.users[1]) == 0); // the least recently used
  CHECK(published_now(t, data.users[0]));
}

TEST_CASE("idle user actors stop after cache-idle-seconds") {
  actor_db data{5};
  core_options o;
  o.cache_idle = 0s;
  o.directory_shards = 1;
  deterministic t{data.path, o};
  for (auto u : data.users)
    t.ask(u);
  t.settle();
  CHECK(t.m.user_actors->Value() == 5);
  t.sched.trigger_timeouts(); // the directory's sweep
  t.settle();
  CHECK(t.m.user_actors->Value() == 0);
  CHECK(t.m.user_evictions_idle->Value() == 5);
}

TEST_CASE("a user served only from the published pages is in use: the idle sweep keeps their actor") {
  actor_db data{4};
  core_options o;
  o.cache_idle = 1s;
  o.directory_shards = 1;
  deterministic t{data.path, o};
  for (auto u : data.users)
    t.ask(u);
  t.settle();
  CHECK(t.m.user_actors->Value() == 4);
  // Users 0 and 1 keep being answered on the HTTP threads (hits never reach the directory).
  auto until = std::chrono::steady_clock::now() + 1200ms;
  while (std::chrono::steady_clock::now() < until) {
    CHECK(published_now(t, data.users[0]));
    CHECK(published_now(t, data.users[1]));
    std::this_thread::sleep_for(100ms);
  }
  t.sched.trigger_timeouts(); // the directory's sweep
  t.settle();
  CHECK(t.m.user_actors->Value() == 2);
  CHECK(t.m.user_evictions_idle->Value() == 2);
  CHECK(published_now(t, data.users[0]));
  CHECK(!published_now(t, data.users[2])); // evicted: its entry went with it
}

TEST_CASE("a full invalidation queue loses nothing") {
  actor_db data{30};
  core_options o;
  o.invalidation_queue = 10;
  o.invalidation_workers = 2;
  deterministic t{data.path, o};
  for (auto u : data.users)
    t.ask(u);
  t.settle();
  store writer{store_options{data.path, 5000}};
  for (auto u : data.users) {
    REQUIRE(writer.book(u, data.spare_sessions[1], now_seconds()).error == error_code::none);
    t.c->after_write(u); // the scheduler does not run: the queue fills up
  }
  CHECK(t.c->invalidations().depth() == 10);
  CHECK(t.c->invalidations().fallbacks() == 20);
  CHECK(t.m.invalidations_fallback->Value() == 20);
  // Even before any cleanup ran, no stale page is served.
  std::vector<slot_ptr> slots;
  for (auto u : data.users)
    slots.push_back(t.ask(u));
  t.settle();
  for (auto& s : slots)
    CHECK(upcoming_of(take(s)) == 2);
  CHECK(t.c->invalidations().depth() == 0);
  CHECK(t.m.invalidation_queue_depth->Value() == 0);
  CHECK(t.m.invalidations_applied->Value() == 30);
}

// Real threads from here on.

namespace {

struct threaded {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  metrics m;
  std::unique_ptr<core> c;
  explicit threaded(const std::string& path) {
    core_options o;
    o.store.path = path;
    c = std::make_unique<core>(sys, o, m);
  }
  // The actors finish exiting (their last steps use what `core` owns) before `core` goes.
  ~threaded() {
    c->shutdown();
    sys.await_all_actors_done();
  }
};

} // namespace

TEST_CASE("real threads: 1000 concurrent requests for one cold user, one load") {
  actor_db data{1};
  threaded t{data.path};
  auto user = data.users[0];
  std::atomic<int> good{0};
  std::vector<std::thread> ts;
  for (int k = 0; k < 16; ++k)
    ts.emplace_back([&, k] {
      std::vector<slot_ptr> mine;
      for (int i = 0; i < 1000 / 16 + (k < 1000 % 16 ? 1 : 0); ++i) {
        mine.push_back(std::make_shared<reply_slot>());
        caf::anon_send(t.c->directory_for(user), page_atom::value, query_for(*t.c, user), reply_ptr{mine.back()});
      }
      for (auto& s : mine) {
        auto r = s->wait_for(5s);
        if (r && upcoming_of(*r) == 1)
          ++good;
      }
    });
  for (auto& th : ts)
    th.join();
  CHECK(good == 1000);
  CHECK(t.m.loads_user_page->Value() == 1);
  MESSAGE("store loads for 1000 concurrent cold requests: " << t.m.loads_user_page->Value());
}

TEST_CASE("real threads: 100 users x 10 concurrent requests, 100 loads") {
  actor_db data{100};
  threaded t{data.path};
  std::vector<slot_ptr> slots;
  for (int round = 0; round < 10; ++round)
    for (auto u : data.users) {
      slots.push_back(std::make_shared<reply_slot>());
      caf::anon_send(t.c->directory_for(u), page_atom::value, query_for(*t.c, u), reply_ptr{slots.back()});
    }
  int good = 0;
  for (auto& s : slots) {
    auto r = s->wait_for(5s);
    good += r && upcoming_of(*r) == 1;
  }
  CHECK(good == 1000);
  CHECK(t.m.loads_user_page->Value() == 100);
  MESSAGE("store loads for 100 users x 10 requests: " << t.m.loads_user_page->Value());
}

TEST_CASE("real threads: actor requesters are answered through the same reply, as messages") {
  actor_db data{2};
  threaded t{data.path};
  actor_requester self{t.sys};
  caf::anon_send(t.c->directory_for(data.users[0]), page_atom::value, query_for(*t.c, data.users[0]), self.reply());
  auto page = self.receive_one(5000ms);
  REQUIRE(page.body);
  CHECK(nlohmann::json::parse(*page.body)["user"]["id"] == data.users[0]);
  caf::anon_send(t.c->directory_for(4242), page_atom::value, query_for(*t.c, 4242), self.reply());
  CHECK(self.receive_one(5000ms).error == error_code::not_found);
  caf::anon_send(t.c->locations(), locations_atom::value, self.reply(), hop{});
  auto ls = self.receive_one(5000ms);
  REQUIRE(ls.body);
  CHECK(nlohmann::json::parse(*ls.body)["locations"].size() == 1);
  caf::anon_send(t.c->locations(), refresh_atom::value, self.reply());
  CHECK(self.receive_one(5000ms).error == error_code::none);
  // HTTP threads and actors waiting for one cold user share its one load.
  auto user = data.users[1];
  auto loads_before = t.m.loads_user_page->Value();
  std::vector<slot_ptr> slots;
  for (int i = 0; i < 50; ++i) {
    slots.push_back(std::make_shared<reply_slot>());
    caf::anon_send(t.c->directory_for(user), page_atom::value, query_for(*t.c, user), reply_ptr{slots.back()});
    caf::anon_send(t.c->directory_for(user), page_atom::value, query_for(*t.c, user), self.reply());
  }
  auto answers = self.receive(50, 5000ms);
  CHECK(answers.size() == 50);
  for (auto& kv : answers)
    CHECK(upcoming_of(kv.second) == 1);
  for (auto& s : slots) {
    auto r = s->wait_for(5s);
    CHECK((r && upcoming_of(*r) == 1));
  }
  CHECK(t.m.loads_user_page->Value() - loads_before == 1);
}

TEST_CASE("real threads: concurrent writes and reads never show a pre-write page") {
  actor_db data{20};
  threaded t{data.path};
  std::atomic<int> violations{0}, checked{0};
  std::vector<std::thread> ts;
  for (size_t k = 0; k < data.users.size(); ++k)
    ts.emplace_back([&, k] {
      auto user = data.users[k];
      store writer{store_options{data.path, 5000}};
      for (int i = 0; i < 4; ++i) {
        auto warm = std::make_shared<reply_slot>();
        caf::anon_send(t.c->directory_for(user), page_atom::value, query_for(*t.c, user), reply_ptr{warm});
        warm->wait_for(5s);
        auto r = writer.book(user, data.spare_sessions[static_cast<size_t>(i)], now_seconds());
        if (r.error != error_code::none)
          continue;
        t.c->after_write(user);
        auto s = std::make_shared<reply_slot>();
        caf::anon_send(t.c->directory_for(user), page_atom::value, query_for(*t.c, user), reply_ptr{s});
        auto got = s->wait_for(5s);
        ++checked;
        if (!got || upcoming_of(*got) != 2 + i)
          ++violations;
      }
    });
  for (auto& th : ts)
    th.join();
  CHECK(checked == 80);
  CHECK(violations == 0);
}

TEST_CASE("shutdown drains the invalidation queue") {
  actor_db data{50};
  threaded t{data.path};
  for (int round = 0; round < 20; ++round)
    for (auto u : data.users)
      t.c->after_write(u);
  CHECK(t.c->shutdown(5000ms));
  CHECK(t.c->invalidations().depth() == 0);
  CHECK(t.m.invalidations_queued->Value() + t.m.invalidations_fallback->Value() == 1000);
}

TEST_CASE("store pool shutdown: jobs not started are not run against the store; later ones neither") {
  small_db data;
  store_pool pool{store_options{data.path, 5000}, 1};
  std::promise<void> release;
  auto released = release.get_future().share();
  std::promise<void> started;
  std::atomic<bool> first_ran_with_store{false};
  pool.submit([&](store* db) { // holds the pool's one thread until the test lets it go
    first_ran_with_store = db != nullptr;
    started.set_value();
    released.wait();
  });
  REQUIRE(started.get_future().wait_for(10s) == std::future_status::ready);
  std::atomic<int> queued_with_store{0}, queued_without{0};
  for (int i = 0; i < 5; ++i)
    pool.submit([&](store* db) { (db ? queued_with_store : queued_without)++; });
  CHECK_FALSE(pool.stopping());
  std::thread stopper{[&] { pool.shutdown(); }};
  // The queued jobs are called without a store before shutdown waits for the running one.
  for (int i = 0; i < 500 && queued_without < 5; ++i)
    std::this_thread::sleep_for(10ms);
  CHECK(queued_without == 5);
  CHECK(pool.stopping());
  release.set_value();
  stopper.join();
  CHECK(first_ran_with_store);
  CHECK(queued_with_store == 0);
  bool late_ran = false, late_with_store = true;
  pool.submit([&](store* db) { late_ran = true; late_with_store = db != nullptr; }); // runs at once
  CHECK(late_ran);
  CHECK_FALSE(late_with_store);
  CHECK(pool.queued() == 0);
}
