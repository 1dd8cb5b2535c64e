// The store writer (http/store_writer): members' writes committed in groups by one thread, each in a
// savepoint; in-process, on a real SQLite file.
#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "fixtures.hpp"
#include "http/store_writer.hpp"

using namespace booking;
using namespace booking::test;

namespace {

int booked_count(store& s, id_type session) {
  sql::statement st{s.connection(), "SELECT count(*) FROM bookings WHERE session_id = ?1 AND status = 'booked'"};
  st.bind(1, session);
  return st.step() ? st.int32(0) : -1;
}

} // namespace

TEST_CASE("a nested transaction is a savepoint: it rolls back its own changes only") {
  small_db data;
  auto u = data.add_user(10, 3);
  auto s1 = data.add_session(now_seconds() + std::chrono::hours{48}, 10);
  auto s2 = data.add_session(now_seconds() + std::chrono::hours{49}, 10);
  store s{store_options{data.path, 5000}};
  {
    sql::transaction outer{s.connection(), true};
    REQUIRE(s.book(u, s1, now_seconds()).error == error_code::none); // book() runs in its own (nested) transaction
    {
      sql::transaction inner{s.connection(), true};
      s.connection().exec("UPDATE users SET credits = 0");
      // not committed: rolled back to the savepoint
    }
    REQUIRE(s.book(u, s2, now_seconds()).error == error_code::none);
    outer.commit();
  }
  CHECK(booked_count(data.db, s1) == 1);
  CHECK(booked_count(data.db, s2) == 1);
  CHECK(data.db.find_user(u)->credits == 8); // 10 - 2; the inner UPDATE is gone
  CHECK(data.ledger_violations() == 0);
}

TEST_CASE("the store writer commits concurrent writes in groups; each answered after its COMMIT") {
  small_db data;
  auto session = data.add_session(now_seconds() + std::chrono::hours{48}, 100000);
  std::vector<id_type> users;
  for (int i = 0; i < 64; ++i)
    users.push_back(data.add_user(10, 3));
  metrics counts;
  store_writer w{store_options{data.path, 5000}, 4096, std::chrono::milliseconds{5000}, 64, &counts};
  std::mutex m;
  std::vector<id_type> committed_order;
  std::atomic<int> ok{0}, visible_after_return{0};
  std::vector<std::thread> threads;
  for (auto u : users)
    threads.emplace_back([&, u] {
      write_result r;
      w.run([&](store& db) { r = db.book(u, session, now_seconds()); },
            [&] {
              std::lock_guard<std::mutex> g{m};
              committed_order.push_back(u);
            });
      if (r.error == error_code::none)
        ++ok;
      // Answered after the COMMIT: another connection sees the booking already.
      store reader{store_options{data.path, 5000}};
      sql::statement st{reader.connection(), "SELECT 1 FROM bookings WHERE user_id = ?1 AND status = 'booked'"};
      st.bind(1, u);
      if (st.step())
        ++visible_after_return;
    });
  for (auto& t : threads)
    t.join();
  CHECK(ok == 64);
  CHECK(visible_after_return == 64);
  CHECK(committed_order.size() == 64);
  CHECK(booked_count(data.db, session) == 64);
  CHECK(w.writes() == 64);
  CHECK(w.groups() >= 1);
  CHECK(w.groups() <= 64);
  CHECK(data.ledger_violations() == 0);
  // The metrics: one observation per group (its size), one wait per write, an empty queue.
  auto groups = counts.writer_group_writes->Collect().histogram;
  CHECK(groups.sample_count == w.groups());
  CHECK(groups.sample_sum == 64);
  CHECK(counts.writer_queue_wait->Collect().histogram.sample_count == 64);
  CHECK(counts.writer_queue_depth->Value() == 0);
  CHECK(counts.writer_refused_->Value() == 0);
  MESSAGE("64 concurrent writes in " << w.groups() << " groups");
}

TEST_CASE("a write that throws in a group rolls back alone; the others commit and get their committed step") {
  small_db data;
  auto session = data.add_session(now_seconds() + std::chrono::hours{48}, 100);
  auto a = data.add_user(10, 3), b = data.add_user(10, 3), c = data.add_user(10, 3);
  store_writer w{store_options{data.path, 5000}, 1024, std::chrono::milliseconds{5000}};
  // Hold the writer on a first write so the next three are queued together into one group.
  std::atomic<bool> release{false}, first_started{false};
  std::thread first{[&] {
    w.run([&](store& db) {
      first_started = true;
      while (!release)
        std::this_thread::sleep_for(std::chrono::milliseconds{1});
      db.book(a, session, now_seconds());
    });
  }};
  while (!first_started)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  std::atomic<int> committed_steps{0};
  bool threw = false;
  std::thread tb{[&] {
    w.run([&](store& db) { db.book(b, session, now_seconds()); }, [&] { ++committed_steps; });
  }};
  std::thread tbad{[&] {
    try {
      w.run(
        [&](store& db) {
          db.book(c, session, now_seconds()); // its own booking, then a failure: both roll back
          throw sql::error("injected", 1);
        },
        [&] { ++committed_steps; });
    } catch (const sql::error&) {
      threw = true;
    }
  }};
  std::this_thread::sleep_for(std::chrono::milliseconds{50}); // both queued behind the first
  auto groups_before = w.groups();
  release = true;
  first.join();
  tb.join();
  tbad.join();
  CHECK(threw);
  CHECK(committed_steps == 1);
  CHECK(w.groups() == groups_before + 2); // the held write's group, then one group of two
  CHECK(booked_count(data.db, session) == 2);
  CHECK(data.db.find_user(c)->credits == 10);
  CHECK(data.ledger_violations() == 0);
}

TEST_CASE("a write that cannot start within the queue timeout is refused (busy) and never runs") {
  small_db data;
  metrics counts;
  store_writer w{store_options{data.path, 5000}, 1024, std::chrono::milliseconds{50}, 64, &counts};
  std::atomic<bool> release{false}, started{false};
  std::thread holder{[&] {
    w.run([&](store&) {
      started = true;
      while (!release)
        std::this_thread::sleep_for(std::chrono::milliseconds{1});
    });
  }};
  while (!started)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  bool ran = false, busy = false;
  try {
    w.run([&](store&) { ran = true; });
  } catch (const sql::error& e) {
    busy = e.busy();
  }
  release = true;
  holder.join();
  w.run([](store&) {}); // the writer goes on; the withdrawn write was skipped
  CHECK(busy);
  CHECK(!ran);
  CHECK(counts.writer_refused_->Value() == 1);
  CHECK(counts.writer_queue_depth->Value() == 0); // the withdrawn write left the count when refused
  CHECK(counts.writer_group_writes->Collect().histogram.sample_sum == 2); // the holder, then the last
}
