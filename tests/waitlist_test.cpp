// The waitlist of SPEC §3 against real SQLite files: join and withdraw rules and precedence, positions,
// promotion after cancel and leave (order, skips, cut-off, capacity), and promotion under concurrency.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "fixtures.hpp"
#include "model/promotion.hpp"
#include "model/store.hpp"

using namespace booking;
using namespace std::chrono_literals;

namespace {

/// small_db that checks the ledger invariant (SPEC §5.11) when the test ends, whatever it did.
struct waitlist_db : test::small_db {
  ~waitlist_db() { CHECK(ledger_violations() == 0); }

  void exec(const std::string& sql) { db.connection().exec(sql.c_str()); }

  /// A session of `capacity` seats, all booked by fresh members; returns the session id.
  id_type full_session(instant starts, int capacity, int waitlist_capacity = 10) {
    auto s = add_session(starts, capacity);
    exec("UPDATE sessions SET waitlist_capacity = " + std::to_string(waitlist_capacity)
         + " WHERE id = " + std::to_string(s));
    for (int i = 0; i < capacity; ++i)
      REQUIRE(db.book(add_user(1, 1), s, starts - 72h).error == error_code::none);
    return s;
  }

  id_type booking_of(id_type user, id_type session) {
    return scalar("SELECT id FROM bookings WHERE user_id = " + std::to_string(user)
                  + " AND session_id = " + std::to_string(session) + " AND status = 'booked'");
  }

  int booked(id_type session) {
    return scalar("SELECT count(*) FROM bookings WHERE status = 'booked' AND session_id = " + std::to_string(session));
  }

  std::string entry_status(id_type entry) {
    sql::statement st{db.connection(), "SELECT status || ':' || coalesce(skip_reason, '') FROM waitlist_entries "
                                       "WHERE id = ?1"};
    st.bind(1, entry);
    return st.step() ? st.text(0) : "";
  }

  /// Takes every credit of a member away, with the ledger row that keeps credits = sum(delta).
  void drain_credits(id_type user) {
    auto credits = db.find_user(user)->credits;
    exec("UPDATE users SET credits = 0 WHERE id = " + std::to_string(user));
    exec("INSERT INTO credit_ledger (user_id, delta, balance_after, reason, created_at) VALUES ("
         + std::to_string(user) + ", " + std::to_string(-credits) + ", 0, 'adjustment', 0)");
  }
};

const auto cutoff = std::chrono::seconds{14h};

} // namespace

TEST_CASE("join: a waiting entry at the end of the line, nothing charged") {
  waitlist_db t;
  auto now = now_seconds();
  auto s = t.full_session(now + 48h, 2);
  auto a = t.add_user(3, 1), b = t.add_user(1, 0);
  auto ra = t.db.join_waitlist(a, s, now);
  REQUIRE(ra.error == error_code::none);
  REQUIRE(ra.entry);
  CHECK(ra.entry->status == waitlist_status::waiting);
  CHECK(ra.entry->position == 1);
  CHECK(ra.entry->user_id == a);
  CHECK(ra.entry->session_id == s);
  CHECK(ra.entry->sess->title == "HIIT");
  CHECK(ra.entry->joined_at == now);
  CHECK(ra.affected_users.empty());
  auto rb = t.db.join_waitlist(b, s, now); // same second: the id breaks the tie
  REQUIRE(rb.error == error_code::none);
  CHECK(rb.entry->position == 2);
  CHECK(t.db.find_user(a)->credits == 3);
  CHECK(t.db.find_user(b)->credits == 1);
  CHECK(t.scalar("SELECT count(*) FROM credit_ledger WHERE reason NOT IN ('opening', 'booking')") == 0);
}

TEST_CASE("join: every refusal, in SPEC's precedence") {
  waitlist_db t;
  auto now = now_seconds();
  auto s = t.full_session(now + 48h, 1, 2);
  auto rich = t.add_user(5, 1);

  SUBCASE("not_found: no such session, no such user") {
    CHECK(t.db.join_waitlist(rich, 987654, now).error == error_code::not_found);
    CHECK(t.db.join_waitlist(424242, s, now).error == error_code::not_found);
  }
  SUBCASE("session_closed: started, cancelled, or past the cut-off (before anything else)") {
    CHECK(t.db.join_waitlist(rich, s, now + 48h).error == error_code::session_closed);
    CHECK(t.db.join_waitlist(rich, s, now + 34h).error == error_code::session_closed); // exactly the cut-off
    CHECK(t.db.join_waitlist(rich, s, now + 34h - 1s).error == error_code::none);
    auto c = t.full_session(now + 48h, 1);
    t.exec("UPDATE sessions SET status = 'cancelled' WHERE id = " + std::to_string(c));
    auto holder = t.scalar("SELECT user_id FROM bookings WHERE session_id = " + std::to_string(c));
    CHECK(t.db.join_waitlist(holder, c, now).error == error_code::session_closed); // beats already_booked
    CHECK(t.db.join_waitlist(rich, c, now).error == error_code::session_closed);
    CHECK(t.db.join_waitlist(t.add_user(1, 0), s, now + 47h, 0s).error == error_code::none); // zero: open to the start
  }
  SUBCASE("already_booked beats session_has_space; already_waitlisted beats waitlist_full") {
    auto open = t.add_session(now + 48h, 5);
    REQUIRE(t.db.book(rich, open, now).error == error_code::none);
    CHECK(t.db.join_waitlist(rich, open, now).error == error_code::already_booked);
    auto holder = t.scalar("SELECT user_id FROM bookings WHERE session_id = " + std::to_string(s));
    CHECK(t.db.join_waitlist(holder, s, now).error == error_code::already_booked);
    REQUIRE(t.db.join_waitlist(rich, s, now).error == error_code::none);
    REQUIRE(t.db.join_waitlist(t.add_user(1, 0), s, now).error == error_code::none); // waitlist now full (2)
    CHECK(t.db.join_waitlist(rich, s, now).error == error_code::already_waitlisted);
    CHECK(t.db.join_waitlist(t.add_user(1, 0), s, now).error == error_code::waitlist_full);
  }
  SUBCASE("session_has_space: book it instead") {
    auto open = t.add_session(now + 48h, 2);
    CHECK(t.db.join_waitlist(rich, open, now).error == error_code::session_has_space);
    t.exec("UPDATE sessions SET capacity = 2 WHERE id = " + std::to_string(s));
    CHECK(t.db.join_waitlist(t.add_user(0, 0), s, now).error == error_code::session_has_space); // beats credits
  }
  SUBCASE("waitlist_full beats insufficient_credits; a zero waitlist capacity means no waitlist") {
    t.exec("UPDATE sessions SET waitlist_capacity = 0 WHERE id = " + std::to_string(s));
    CHECK(t.db.join_waitlist(rich, s, now).error == error_code::waitlist_full);
    CHECK(t.db.join_waitlist(t.add_user(0, 0), s, now).error == error_code::waitlist_full);
  }
  SUBCASE("insufficient_credits, then an inactive member") {
    CHECK(t.db.join_waitlist(t.add_user(0, 3), s, now).error == error_code::insufficient_credits);
    auto gone = t.add_user(2, 0);
    t.exec("UPDATE users SET active = 0 WHERE id = " + std::to_string(gone));
    CHECK(t.db.join_waitlist(gone, s, now).error == error_code::forbidden);
  }
  CHECK(t.scalar("SELECT count(*) FROM waitlist_entries WHERE user_id NOT IN (SELECT id FROM users WHERE active = 1 "
                 "AND credits >= 1)") == 0);
}

TEST_CASE("a cancelled session cannot be booked") {
  waitlist_db t;
  auto now = now_seconds();
  auto s = t.add_session(now + 48h, 5);
  t.exec("UPDATE sessions SET status = 'cancelled' WHERE id = " + std::to_string(s));
  CHECK(t.db.book(t.add_user(3, 1), s, now).error == error_code::session_closed);
  CHECK(t.booked(s) == 0);
}

TEST_CASE("withdraw: one's own waiting entry only") {
  waitlist_db t;
  auto now = now_seconds();
  auto s = t.full_session(now + 48h, 1);
  auto a = t.add_user(2, 0), b = t.add_user(2, 0), c = t.add_user(2, 0);
  auto ea = t.db.join_waitlist(a, s, now).entry->id;
  auto eb = t.db.join_waitlist(b, s, now).entry->id;
  auto ec = t.db.join_waitlist(c, s, now).entry->id;
  CHECK(t.db.withdraw(b, ea, now).error == error_code::not_found); // another member's entry looks missing
  CHECK(t.db.withdraw(a, 999999, now).error == error_code::not_found);
  CHECK(t.db.withdraw(424242, ea, now).error == error_code::not_found);
  auto r = t.db.withdraw(a, ea, now + 1s);
  REQUIRE(r.error == error_code::none);
  CHECK(r.entry->status == waitlist_status::withdrawn);
  CHECK(r.entry->position == 0);
  CHECK(r.entry->updated_at == now + 1s);
  std::sort(r.affected_users.begin(), r.affected_users.end());
  CHECK(r.affected_users == std::vector<id_type>{b, c}); // they moved up
  CHECK(t.db.withdraw(a, ea, now).error == error_code::not_withdrawable);
  CHECK(t.db.find_entry(eb)->position == 1);
  CHECK(t.db.find_entry(ec)->position == 2);
  // Withdrawn, promoted, skipped and cancelled entries are all not withdrawable.
  t.exec("UPDATE waitlist_entries SET status = 'cancelled' WHERE id = " + std::to_string(ec));
  CHECK(t.db.withdraw(c, ec, now).error == error_code::not_withdrawable);
  // A member may join again after withdrawing.
  auto again = t.db.join_waitlist(a, s, now + 2s);
  REQUIRE(again.error == error_code::none);
  CHECK(again.entry->position == 2);
  CHECK(t.db.find_user(a)->credits == 2);
}

TEST_CASE("position: 1 + waiting entries of the session ahead in (joined_at, id)") {
  waitlist_db t;
  auto now = now_seconds();
  auto s = t.full_session(now + 48h, 1, 20);
  auto other = t.full_session(now + 48h, 1, 20);
  std::vector<id_type> users;
  for (int i = 0; i < 5; ++i)
    users.push_back(t.add_user(2, 0));
  // Joined at 10, 10, 5, 20, 10 seconds: ties on joined_at go by id.
  const int joined[] = {10, 10, 5, 20, 10};
  std::vector<id_type> entries;
  for (size_t i = 0; i < users.size(); ++i)
    entries.push_back(t.db.join_waitlist(users[i], s, now + std::chrono::seconds{joined[i]}).entry->id);
  t.db.join_waitlist(users[0], other, now); // another session's line does not count
  auto pos = [&](size_t i) { return t.db.find_entry(entries[i])->position; };
  CHECK(pos(2) == 1);
  CHECK(pos(0) == 2);
  CHECK(pos(1) == 3);
  CHECK(pos(4) == 4);
  CHECK(pos(3) == 5);
  REQUIRE(t.db.withdraw(users[0], entries[0], now + 30s).error == error_code::none);
  CHECK(pos(2) == 1);
  CHECK(pos(1) == 2);
  CHECK(pos(4) == 3);
  CHECK(pos(3) == 4);
  CHECK(pos(0) == 0);
  CHECK(waiting_users(t.db.connection(), s) == std::vector<id_type>{users[2], users[1], users[4], users[3]});
}

TEST_CASE("a cancel promotes the head of the line: booked via waitlist, charged once, entry promoted") {
  waitlist_db t;
  auto now = now_seconds();
  auto s = t.full_session(now + 48h, 2);
  auto holder = t.scalar("SELECT user_id FROM bookings WHERE session_id = " + std::to_string(s) + " ORDER BY id");
  auto a = t.add_user(3, 0), b = t.add_user(3, 0);
  auto ea = t.db.join_waitlist(a, s, now).entry->id;
  auto eb = t.db.join_waitlist(b, s, now + 1s).entry->id;
  auto r = t.db.cancel(holder, t.booking_of(holder, s), now + 2s, 12h, cutoff);
  REQUIRE(r.error == error_code::none);
  CHECK(r.b->cancelled_by == canceller::member);
  CHECK(r.promotion.promoted == 1);
  CHECK(r.promotion.skipped == 0);
  CHECK(r.promotion.promoted_users == std::vector<id_type>{a});
  std::sort(r.affected_users.begin(), r.affected_users.end());
  CHECK(r.affected_users == std::vector<id_type>{a, b});
  CHECK(t.booked(s) == 2);
  auto promoted = t.db.find_entry(ea);
  CHECK(promoted->status == waitlist_status::promoted);
  REQUIRE(promoted->booking_id);
  CHECK(*promoted->booking_id == t.booking_of(a, s));
  CHECK(t.db.find_entry(eb)->position == 1);
  CHECK(t.db.find_user(a)->credits == 2);
  CHECK(t.scalar("SELECT count(*) FROM credit_ledger WHERE reason = 'promotion' AND user_id = " + std::to_string(a)
                 + " AND delta = -1 AND balance_after = 2 AND booking_id = " + std::to_string(*promoted->booking_id)
                 + " AND actor_user_id IS NULL")
        == 1);
  auto snap = t.db.load_user(a);
  REQUIRE(snap);
  REQUIRE(snap->bookings.size() == 1);
  CHECK(snap->bookings[0].via_waitlist);
  CHECK(snap->bookings[0].status == booking_status::booked);
  CHECK(snap->waiting.empty());
  CHECK(t.db.load_user(b)->waiting.size() == 1);
  CHECK(t.db.load_user(b)->waiting[0].position == 1);
}

TEST_CASE("a leave promotes too") {
  waitlist_db t;
  auto now = now_seconds();
  auto s = t.full_session(now + 48h, 1);
  auto holder = t.scalar("SELECT user_id FROM bookings WHERE session_id = " + std::to_string(s));
  auto a = t.add_user(1, 0);
  t.db.join_waitlist(a, s, now);
  auto r = t.db.leave(holder, t.booking_of(holder, s), "", now, cutoff);
  REQUIRE(r.error == error_code::none);
  CHECK(r.promotion.promoted_users == std::vector<id_type>{a});
  CHECK(t.db.find_user(a)->credits == 0);
  CHECK(t.booking_of(a, s) > 0);
}

TEST_CASE("members without credits, inactive or already booked are skipped; the next one is promoted") {
  waitlist_db t;
  auto now = now_seconds();
  auto s = t.full_session(now + 48h, 1);
  auto holder = t.scalar("SELECT user_id FROM bookings WHERE session_id = " + std::to_string(s));
  auto poor = t.add_user(1, 0), gone = t.add_user(1, 0), twice = t.add_user(2, 0), next = t.add_user(1, 0),
       last = t.add_user(1, 0);
  auto e_poor = t.db.join_waitlist(poor, s, now).entry->id;
  auto e_gone = t.db.join_waitlist(gone, s, now).entry->id;
  auto e_twice = t.db.join_waitlist(twice, s, now).entry->id;
  auto e_next = t.db.join_waitlist(next, s, now).entry->id;
  auto e_last = t.db.join_waitlist(last, s, now).entry->id;
  t.drain_credits(poor);
  t.exec("UPDATE users SET active = 0 WHERE id = " + std::to_string(gone));
  // A booked row next to a waiting entry cannot come from the routes; promotion still never doubles it.
  t.exec("UPDATE sessions SET capacity = 2 WHERE id = " + std::to_string(s));
  REQUIRE(t.db.book(twice, s, now).error == error_code::none);
  t.exec("UPDATE sessions SET capacity = 1 WHERE id = " + std::to_string(s));
  t.exec("UPDATE bookings SET status = 'cancelled', cancelled_by = 'member' WHERE user_id = " + std::to_string(holder));
  // Now the session holds one booked seat (twice's) of 1: free one and promote.
  t.exec("UPDATE sessions SET capacity = 2 WHERE id = " + std::to_string(s));
  sql::transaction tx{t.db.connection(), true};
  auto out = promote_waitlist(t.db.connection(), s, now, cutoff);
  tx.commit();
  CHECK(out.promoted == 1);
  CHECK(out.skipped == 3);
  CHECK(out.promoted_users == std::vector<id_type>{next});
  CHECK(t.entry_status(e_poor) == "skipped:insufficient_credits");
  CHECK(t.entry_status(e_gone) == "skipped:inactive");
  CHECK(t.entry_status(e_twice) == "skipped:already_booked");
  CHECK(t.entry_status(e_next) == "promoted:");
  CHECK(t.entry_status(e_last) == "waiting:");
  CHECK(t.booked(s) == 2);
  CHECK(t.scalar("SELECT count(*) FROM bookings WHERE status = 'booked' AND user_id = " + std::to_string(twice)) == 1);
  CHECK(t.db.find_user(poor)->credits == 0);
  CHECK(t.db.find_user(gone)->credits == 1);
  CHECK(t.db.find_user(next)->credits == 0);
  CHECK(t.db.find_entry(e_last)->position == 1);
}

TEST_CASE("promotion never exceeds capacity and fills a raised capacity in join order") {
  waitlist_db t;
  auto now = now_seconds();
  auto s = t.full_session(now + 48h, 2);
  std::vector<id_type> users, entries;
  for (int i = 0; i < 6; ++i) {
    users.push_back(t.add_user(2, 0));
    entries.push_back(t.db.join_waitlist(users.back(), s, now + std::chrono::seconds{6 - i}).entry->id);
  }
  auto promote = [&] {
    sql::transaction tx{t.db.connection(), true};
    auto out = promote_waitlist(t.db.connection(), s, now + 10s, cutoff);
    tx.commit();
    return out;
  };
  CHECK(promote().promoted == 0); // full: nothing happens
  CHECK(t.scalar("SELECT count(*) FROM waitlist_entries WHERE status = 'waiting'") == 6);
  t.exec("UPDATE sessions SET capacity = 5 WHERE id = " + std::to_string(s)); // an admin raise
  auto out = promote();
  CHECK(out.promoted == 3);
  CHECK(out.promoted_users == std::vector<id_type>{users[5], users[4], users[3]}); // earliest joined first
  CHECK(t.booked(s) == 5);
  CHECK(promote().promoted == 0);
  CHECK(t.booked(s) == 5);
  CHECK(t.db.find_entry(entries[2])->position == 1);
}

TEST_CASE("after the cut-off nothing is promoted and entries stay waiting") {
  waitlist_db t;
  auto now = now_seconds();
  auto s = t.full_session(now + 48h, 1);
  auto holder = t.scalar("SELECT user_id FROM bookings WHERE session_id = " + std::to_string(s));
  auto a = t.add_user(1, 0);
  auto e = t.db.join_waitlist(a, s, now).entry->id;
  auto late = now + 48h - cutoff; // exactly the cut-off
  auto r = t.db.cancel(holder, t.booking_of(holder, s), late, 12h, cutoff);
  REQUIRE(r.error == error_code::none);
  CHECK(r.promotion.promoted == 0);
  CHECK(r.affected_users.empty());
  CHECK(t.entry_status(e) == "waiting:");
  CHECK(t.booked(s) == 0);
  CHECK(t.db.find_user(a)->credits == 1);
  // Nor on a cancelled session, whatever the time.
  auto c = t.full_session(now + 96h, 1);
  auto b = t.add_user(1, 0);
  t.db.join_waitlist(b, c, now);
  t.exec("UPDATE sessions SET status = 'cancelled' WHERE id = " + std::to_string(c));
  t.exec("UPDATE bookings SET status = 'cancelled', cancelled_by = 'studio' WHERE session_id = " + std::to_string(c));
  sql::transaction tx{t.db.connection(), true};
  CHECK(promote_waitlist(t.db.connection(), c, now, cutoff).promoted == 0);
  CHECK(promote_waitlist(t.db.connection(), 987654, now, cutoff).promoted == 0);
  tx.commit();
}

TEST_CASE("load_user lists waiting entries by session start, then id; sessions_at counts the line") {
  waitlist_db t;
  auto now = now_seconds();
  auto late = t.full_session(now + 96h, 1), early = t.full_session(now + 48h, 1);
  auto u = t.add_user(5, 0), v = t.add_user(5, 0);
  t.db.join_waitlist(v, early, now);
  auto e_late = t.db.join_waitlist(u, late, now).entry->id;
  auto e_early = t.db.join_waitlist(u, early, now).entry->id;
  auto withdrawn = t.full_session(now + 24h, 1);
  t.db.withdraw(u, t.db.join_waitlist(u, withdrawn, now).entry->id, now);
  auto snap = t.db.load_user(u);
  REQUIRE(snap);
  REQUIRE(snap->waiting.size() == 2);
  CHECK(snap->waiting[0].id == e_early);
  CHECK(snap->waiting[0].position == 2);
  CHECK(snap->waiting[0].sess->starts_at == now + 48h);
  CHECK(snap->waiting[1].id == e_late);
  CHECK(snap->waiting[1].position == 1);
  t.exec("UPDATE sessions SET status = 'cancelled', waitlist_capacity = 4 WHERE id = " + std::to_string(late));
  auto list = t.db.sessions_at(1, now, now + 120h);
  REQUIRE(list.size() == 3);
  CHECK(list[1].s.id == early);
  CHECK(list[1].waitlist_length == 2);
  CHECK(list[1].s.waitlist_capacity == 10);
  CHECK(list[1].s.status == session_status::scheduled);
  CHECK(list[2].s.status == session_status::cancelled);
  CHECK(list[2].s.waitlist_capacity == 4);
  CHECK(list[2].seats_left == 0);
  CHECK(list[0].waitlist_length == 0);
  auto open = t.add_session(now + 50h, 3);
  t.exec("UPDATE sessions SET status = 'cancelled' WHERE id = " + std::to_string(open));
  for (auto& v2 : t.db.sessions_at(1, now, now + 120h))
    if (v2.s.id == open)
      CHECK(v2.seats_left == 0); // cancelled: no seats, even with none booked
}

TEST_CASE("idempotency keys replay joins and withdrawals") {
  waitlist_db t;
  auto now = now_seconds();
  auto s = t.full_session(now + 48h, 1);
  auto u = t.add_user(2, 0);
  int rendered = 0;
  auto respond = [&](const write_result& r) {
    ++rendered;
    return stored_response{r.error == error_code::none ? 201 : 409, "body-" + std::to_string(rendered)};
  };
  idempotency_request idem{"join-1", "hash-join"};
  write_command join{write_kind::join_waitlist, s, {}};
  auto first = t.db.write(u, join, now, write_policy{}, &idem, respond);
  REQUIRE(first.result.entry);
  auto again = t.db.write(u, join, now, write_policy{}, &idem, respond);
  CHECK(again.replayed);
  CHECK(again.response.body == "body-1");
  CHECK(t.scalar("SELECT count(*) FROM waitlist_entries") == 1);
  idempotency_request other{"join-1", "hash-other"};
  CHECK(t.db.write(u, join, now, write_policy{}, &other, respond).mismatch);
  idempotency_request wk{"withdraw-1", "hash-withdraw"};
  write_command withdraw{write_kind::withdraw, first.result.entry->id, {}};
  CHECK(t.db.write(u, withdraw, now, write_policy{}, &wk, respond).response.body == "body-2");
  auto replay = t.db.write(u, withdraw, now, write_policy{}, &wk, respond);
  CHECK(replay.replayed);
  CHECK(replay.response.status == 201);
  CHECK(rendered == 2);
}

TEST_CASE("concurrency: cancels and withdrawals race; promotion stays in order, charged once, within capacity") {
  // 20 rounds: a full 10-seat session with 30 waiting members (some without credits or inactive, so they
  // are skipped); 10 bookers cancel and 10 waiters withdraw at once, each from its own thread and connection.
  constexpr int rounds = 20, capacity = 10, waiters = 30, withdrawers = 10;
  waitlist_db t;
  auto now = now_seconds();
  int promotions = 0, skips = 0, violations = 0, withdrawn = 0, too_late = 0;
  for (int round = 0; round < rounds; ++round) {
    auto s = t.full_session(now + 48h, capacity, waiters);
    std::vector<std::pair<id_type, id_type>> bookers; // (user, booking)
    {
      sql::statement st{t.db.connection(), "SELECT user_id, id FROM bookings WHERE session_id = ?1 ORDER BY id"};
      st.bind(1, s);
      while (st.step())
        bookers.emplace_back(st.int64(0), st.int64(1));
    }
    std::vector<id_type> users, entries;
    std::vector<bool> eligible;
    for (int i = 0; i < waiters; ++i) {
      users.push_back(t.add_user(1 + i % 3, 0));
      entries.push_back(t.db.join_waitlist(users.back(), s, now + std::chrono::seconds{i / 2}).entry->id);
      eligible.push_back(true);
    }
    for (int i = (round % 5); i < waiters; i += 7) { // a few ineligible members, spread along the line
      if (i % 2 == 0)
        t.drain_credits(users[static_cast<size_t>(i)]);
      else
        t.exec("UPDATE users SET active = 0 WHERE id = " + std::to_string(users[static_cast<size_t>(i)]));
      eligible[static_cast<size_t>(i)] = false;
    }
    std::vector<int> withdrawing; // every third waiter, starting near the head of the line
    for (int i = 1; static_cast<int>(withdrawing.size()) < withdrawers; i += 3)
      withdrawing.push_back(i);
    std::atomic<bool> go{false};
    std::atomic<int> errors{0}, round_withdrawn{0}, round_too_late{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < capacity; ++i)
      threads.emplace_back([&, i] {
        store mine{store_options{t.path, 10000}};
        auto [owner, booking_id] = bookers[static_cast<size_t>(i)];
        while (!go)
          std::this_thread::yield();
        try {
          if (mine.cancel(owner, booking_id, now + 60s, 12h, cutoff).error != error_code::none)
            errors++;
        } catch (const sql::error&) {
          errors++;
        }
      });
    for (int w : withdrawing)
      threads.emplace_back([&, w] {
        store mine{store_options{t.path, 10000}};
        while (!go)
          std::this_thread::yield();
        try {
          auto r = mine.withdraw(users[static_cast<size_t>(w)], entries[static_cast<size_t>(w)], now + 60s);
          if (r.error == error_code::none)
            round_withdrawn++;
          else if (r.error == error_code::not_withdrawable) // promoted or skipped first: a fair race
            round_too_late++;
          else
            errors++;
        } catch (const sql::error&) {
          errors++;
        }
      });
    go = true;
    for (auto& th : threads)
      th.join();
    CHECK(errors == 0);
    withdrawn += round_withdrawn;
    too_late += round_too_late;

    // Invariants of the round.
    auto sid = std::to_string(s);
    int booked = t.booked(s);
    int dup = t.scalar("SELECT count(*) FROM (SELECT user_id FROM bookings WHERE session_id = " + sid
                       + " AND status = 'booked' GROUP BY user_id HAVING count(*) > 1)");
    int promoted = t.scalar("SELECT count(*) FROM waitlist_entries WHERE status = 'promoted' AND session_id = " + sid);
    int skipped = t.scalar("SELECT count(*) FROM waitlist_entries WHERE status = 'skipped' AND session_id = " + sid);
    // Each promoted member: one `promotion` ledger row for exactly that booking, and one credit less.
    int charged_wrong = t.scalar(
      "SELECT count(*) FROM waitlist_entries w JOIN bookings b ON b.id = w.booking_id WHERE w.session_id = " + sid
      + " AND w.status = 'promoted' AND (b.user_id != w.user_id OR b.status != 'booked' OR b.via_waitlist != 1 OR "
        "(SELECT count(*) FROM credit_ledger l WHERE l.user_id = w.user_id AND l.reason = 'promotion') != 1 OR "
        "(SELECT count(*) FROM credit_ledger l WHERE l.user_id = w.user_id AND l.reason = 'promotion' "
        "AND l.booking_id = b.id) != 1)");
    // Order: walking the line in (joined_at, id) order, promoted booking ids rise, and no eligible entry still
    // waiting (or skipped) stands ahead of a promoted one.
    int out_of_order = 0, skipped_wrong = 0;
    {
      sql::statement st{t.db.connection(), "SELECT id, status, coalesce(booking_id, 0) FROM waitlist_entries "
                                           "WHERE session_id = ?1 ORDER BY joined_at, id"};
      st.bind(1, s);
      id_type last_booking = 0;
      bool eligible_left_behind = false;
      while (st.step()) {
        auto idx = static_cast<size_t>(std::find(entries.begin(), entries.end(), st.int64(0)) - entries.begin());
        auto status = st.text(1);
        if (status == "promoted") {
          if (st.int64(2) <= last_booking || eligible_left_behind)
            ++out_of_order;
          last_booking = st.int64(2);
        } else if (status == "waiting" && eligible[idx]) {
          eligible_left_behind = true;
        } else if (status == "skipped" && eligible[idx]) {
          ++skipped_wrong;
        }
      }
    }
    int round_violations = (booked > capacity) + (booked != capacity) + dup + charged_wrong + out_of_order
                           + skipped_wrong + (promoted != capacity) + t.ledger_violations();
    CHECK(booked <= capacity);
    CHECK(booked == capacity); // enough eligible members wait to refill every seat
    CHECK(promoted == capacity);
    CHECK(dup == 0);
    CHECK(charged_wrong == 0);
    CHECK(out_of_order == 0);
    CHECK(skipped_wrong == 0);
    CHECK(t.ledger_violations() == 0);
    promotions += promoted;
    skips += skipped;
    violations += round_violations;
  }
  MESSAGE("waitlist concurrency: rounds=" << rounds << " promotions=" << promotions << " skips=" << skips
                                          << " withdrawn=" << withdrawn << " withdraw_lost_race=" << too_late
                                          << " violations=" << violations);
  CHECK(promotions == rounds * capacity);
  CHECK(violations == 0);
}
