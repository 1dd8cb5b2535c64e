#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include <sqlite3.h>

#include "fixtures.hpp"
#include "model/migrations.hpp"
#include "model/store.hpp"
#include "model/token_hash.hpp"

using namespace booking;
using booking::test::small_db;
using namespace std::chrono_literals;

TEST_CASE("migrations set user_version and are idempotent") {
  small_db t;
  CHECK(t.scalar("PRAGMA user_version") == schema_version());
  CHECK(t.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'bookings'") == 1);
  store again{store_options{t.path, 1000}}; // reopening migrates nothing and keeps data
  CHECK(t.scalar("SELECT count(*) FROM locations") == 1);
  sql::connection c{t.path, 1000};
  std::string mode;
  sql::statement st{c, "PRAGMA journal_mode"};
  REQUIRE(st.step());
  CHECK(st.text(0) == "wal");
}

TEST_CASE("SQLite keeps no memory statistics (no process-wide mutex in every allocation)") {
  small_db t;
  t.add_user(3, 1);
  sql::connection c{t.path, 1000};
  sql::statement st{c, "SELECT count(*) FROM users"};
  REQUIRE(st.step());
  // With the statistics on, this counts every byte SQLite holds, under the mutex the setting avoids.
  CHECK(sqlite3_memory_used() == 0);
}

TEST_CASE("a connection keeps its prepared statements: reused, reset, bindings cleared") {
  small_db t;
  t.add_user(3, 1);
  t.add_user(4, 1);
  sql::connection c{t.path, 1000};
  const char* text = "SELECT id FROM users WHERE credits >= ?1 ORDER BY id";
  sqlite3_stmt* first = nullptr;
  {
    sql::statement st{c, text};
    first = st.handle();
    st.bind(1, 3);
    REQUIRE(st.step()); // left mid-result: giving it back must end the read it holds
  }
  CHECK(c.kept_statements() == 1);
  {
    // Another connection writes and checkpoints the whole log: it could not if the kept statement
    // still held its read snapshot.
    sql::connection w{t.path, 1000};
    sql::statement{w, "UPDATE users SET credits = credits + 1"}.run();
    sql::statement cp{w, "PRAGMA wal_checkpoint(TRUNCATE)"};
    REQUIRE(cp.step());
    CHECK(cp.int64(0) == 0); // not busy: no reader left behind
  }
  {
    sql::statement st{c, text};
    CHECK(st.handle() == first); // the same prepared statement, not a new one
    CHECK(c.kept_statements() == 0);
    // Bindings were cleared when it was given back: ?1 is NULL, and `credits >= NULL` matches nothing.
    CHECK_FALSE(st.step());
    st.reset();
    st.bind(1, 4);
    int rows = 0;
    while (st.step())
      ++rows;
    CHECK(rows == 2); // 4 and 5 credits after the update
    st.reset();
    // A nested use of the same text while this one is taken: its own statement, both usable.
    sql::statement inner{c, text};
    CHECK(inner.handle() != first);
    inner.bind(1, 5);
    REQUIRE(inner.step());
    st.bind(1, 5);
    REQUIRE(st.step());
    CHECK(st.int64(0) == inner.int64(0));
  }
  CHECK(c.kept_statements() == 1); // one kept per text; the other was finalized
  CHECK_THROWS_AS(sql::statement(c, "SELECT nothing FROM nowhere"), sql::error);
  CHECK(c.kept_statements() == 1);
  // Transactions begin and commit through kept statements too.
  {
    sql::transaction tx{c, true};
    sql::statement{c, "UPDATE users SET credits = credits - 1"}.run();
    tx.commit();
  }
  CHECK(c.kept_statements() == 4);
  CHECK(t.scalar("SELECT sum(credits) FROM users") == 7);
  {
    sql::transaction tx{c, true};
    sql::statement{c, "UPDATE users SET credits = 0"}.run();
  } // rolled back
  CHECK(t.scalar("SELECT sum(credits) FROM users") == 7);
}

TEST_CASE("migration 2 keeps a version-1 database's data and opens the ledger") {
  booking::test::temp_dir dir;
  auto path = dir.file("v1.db");
  {
    sql::connection c{path, 1000};
    migrate(c, 1);
    c.exec("INSERT INTO users (id, name, email, credits, leave_quota) VALUES (1, 'A', 'a@x', 3, 1), "
           "(2, 'B', 'b@x', 0, 0);"
           "INSERT INTO api_tokens (token_hash, user_id, role, revoked) VALUES ('h1', 1, 'member', 0);"
           "INSERT INTO locations (id, name, address) VALUES (1, 'L', 'A');"
           "INSERT INTO sessions (id, location_id, title, coach, starts_at, ends_at, capacity) "
           "VALUES (1, 1, 'T', 'C', 100, 200, 5);"
           "INSERT INTO bookings (user_id, session_id, status, credit_refunded, created_at, updated_at) "
           "VALUES (1, 1, 'cancelled', 1, 10, 20), (1, 1, 'booked', 0, 30, 30);");
  }
  store s{store_options{path, 1000}};
  auto scalar = [&](const char* q) {
    sql::statement st{s.connection(), q};
    sql::scoped_reset r{st};
    return st.step() ? st.int32(0) : -1;
  };
  CHECK(scalar("PRAGMA user_version") == schema_version());
  CHECK(scalar("SELECT count(*) FROM bookings") == 2);
  CHECK(scalar("SELECT count(*) FROM bookings WHERE cancelled_by = 'member'") == 1);
  CHECK(scalar("SELECT count(*) FROM bookings WHERE via_waitlist = 0") == 2);
  CHECK(scalar("SELECT active FROM users WHERE id = 1") == 1);
  CHECK(scalar("SELECT status = 'scheduled' AND waitlist_capacity = 10 FROM sessions WHERE id = 1") == 1);
  CHECK(scalar("SELECT count(*) FROM credit_ledger WHERE reason = 'opening'") == 2);
  CHECK(scalar("SELECT count(*) FROM users u WHERE credits != "
               "(SELECT sum(delta) FROM credit_ledger l WHERE l.user_id = u.id)") == 0);
  auto tok = s.find_token("h1");
  REQUIRE(tok);
  CHECK(tok->user_id == 1);
  CHECK(scalar("SELECT id > 0 AND created_at > 0 FROM api_tokens WHERE token_hash = 'h1'") == 1);
  s.connection().exec("INSERT INTO audit_events (created_at, action, target_type) VALUES (1, 'x', 'y')");
  CHECK_THROWS_AS(s.connection().exec("DELETE FROM audit_events"), sql::error);
  CHECK_THROWS_AS(s.connection().exec("UPDATE audit_events SET action = 'z'"), sql::error);
}

TEST_CASE("a newer schema is refused") {
  small_db t;
  t.db.connection().exec("PRAGMA user_version = 999");
  CHECK_THROWS_AS(store(store_options{t.path, 1000}), sql::error);
}

TEST_CASE("book, cancel and leave apply their effects") {
  small_db t;
  auto now = now_seconds();
  auto u = t.add_user(2, 1);
  auto s1 = t.add_session(now + 48h, 5);
  auto s2 = t.add_session(now + 2h, 5);
  auto r = t.db.book(u, s1, now);
  REQUIRE(r.error == error_code::none);
  REQUIRE(r.b);
  CHECK(r.b->status == booking_status::booked);
  CHECK(t.db.find_user(u)->credits == 1);
  CHECK(t.db.book(u, s1, now).error == error_code::already_booked);

  auto c = t.db.cancel(u, r.b->id, now, 12h); // 48 h ahead: refunded
  REQUIRE(c.error == error_code::none);
  CHECK(c.b->status == booking_status::cancelled);
  CHECK(c.b->credit_refunded);
  CHECK(t.db.find_user(u)->credits == 2);
  CHECK(t.db.cancel(u, r.b->id, now, 12h).error == error_code::not_cancellable);

  auto r2 = t.db.book(u, s2, now); // 2 h ahead: cancel without refund
  REQUIRE(r2.error == error_code::none);
  auto c2 = t.db.cancel(u, r2.b->id, now, 12h);
  CHECK(c2.error == error_code::none);
  CHECK(!c2.b->credit_refunded);
  CHECK(t.db.find_user(u)->credits == 1);

  auto r3 = t.db.book(u, s1, now); // booking again after a cancel is allowed
  REQUIRE(r3.error == error_code::none);
  CHECK(t.db.find_user(u)->credits == 0);
  auto l = t.db.leave(u, r3.b->id, "出差", now);
  REQUIRE(l.error == error_code::none);
  CHECK(l.b->status == booking_status::leave);
  CHECK(l.b->leave_reason == "出差");
  CHECK(l.b->credit_refunded);
  // The cached page snapshot keeps only what a page shows: no leave reason, no email.
  auto page_snap = t.db.load_user(u);
  REQUIRE(page_snap);
  CHECK(page_snap->u.email.empty());
  CHECK(!page_snap->u.name.empty());
  for (auto& b : page_snap->bookings)
    CHECK(b.leave_reason.empty());
  CHECK(t.db.find_user(u)->email.size() > 0); // the row itself is unchanged
  auto after = *t.db.find_user(u);
  CHECK(after.credits == 1);
  CHECK(after.leave_quota == 0);
  auto r4 = t.db.book(u, s1, now);
  REQUIRE(r4.error == error_code::none);
  CHECK(t.db.leave(u, r4.b->id, "", now).error == error_code::insufficient_leave_quota);
  // Every credit change wrote one ledger row: 4 bookings, 2 refunds (cancel in the window, leave).
  CHECK(t.scalar("SELECT count(*) FROM credit_ledger WHERE reason = 'booking'") == 4);
  CHECK(t.scalar("SELECT count(*) FROM credit_ledger WHERE reason = 'refund'") == 2);
  CHECK(t.ledger_violations() == 0);
  CHECK(t.scalar("SELECT count(*) FROM bookings WHERE status = 'cancelled' AND cancelled_by = 'member'") == 2);
}

TEST_CASE("foreign and missing bookings look the same; nothing changes") {
  small_db t;
  auto now = now_seconds();
  auto a = t.add_user(3, 3), b = t.add_user(3, 3);
  auto s = t.add_session(now + 48h, 5);
  auto r = t.db.book(a, s, now);
  REQUIRE(r.b);
  CHECK(t.db.cancel(b, r.b->id, now, 12h).error == error_code::not_found);
  CHECK(t.db.leave(b, r.b->id, "", now).error == error_code::not_found);
  CHECK(t.db.cancel(b, 999999, now, 12h).error == error_code::not_found);
  CHECK(t.db.book(b, 999999, now).error == error_code::not_found);
  CHECK(t.db.book(424242, s, now).error == error_code::not_found); // no such user
  CHECK(t.scalar("SELECT status = 'booked' FROM bookings") == 1);
  CHECK(t.db.find_user(b)->credits == 3);
}

TEST_CASE("started sessions are closed for every write") {
  small_db t;
  auto now = now_seconds();
  auto u = t.add_user(3, 3);
  auto s = t.add_session(now + 1h, 5);
  auto r = t.db.book(u, s, now);
  REQUIRE(r.b);
  auto later = now + 1h;
  CHECK(t.db.cancel(u, r.b->id, later, 12h).error == error_code::session_closed);
  CHECK(t.db.leave(u, r.b->id, "", later).error == error_code::session_closed);
  CHECK(t.db.book(t.add_user(3, 3), s, later).error == error_code::session_closed);
}

TEST_CASE("load_user returns every booking ordered by start, then id") {
  small_db t;
  auto now = now_seconds();
  auto u = t.add_user(10, 3);
  auto late = t.add_session(now + 72h, 5), early = t.add_session(now + 24h, 5), same = t.add_session(now + 24h, 5);
  t.db.book(u, late, now);
  t.db.book(u, same, now);
  t.db.book(u, early, now);
  auto snap = t.db.load_user(u);
  REQUIRE(snap);
  REQUIRE(snap->bookings.size() == 3);
  CHECK(snap->bookings[0].session_id() == same); // same start: lower booking id first
  CHECK(snap->bookings[1].session_id() == early);
  CHECK(snap->bookings[2].session_id() == late);
  CHECK(snap->u.credits == 7);
  CHECK(!t.db.load_user(987654));
}

TEST_CASE("members' snapshots share one copy of a session; a changed session is read anew") {
  small_db t;
  auto now = now_seconds();
  auto a = t.add_user(10, 3), b = t.add_user(10, 3);
  auto s = t.add_session(now + 24h, 5);
  t.db.book(a, s, now);
  t.db.book(b, s, now);
  auto sa = t.db.load_user(a), sb = t.db.load_user(b);
  REQUIRE(sa);
  REQUIRE(sb);
  REQUIRE(sa->bookings.size() == 1);
  REQUIRE(sb->bookings.size() == 1);
  CHECK(sa->bookings[0].sess.shared() == sb->bookings[0].sess.shared()); // one copy, two members
  CHECK(sa->bookings[0].sess->title == "HIIT");
  // The studio renames the session: the next load shows it, and what was cached before is unchanged.
  t.db.connection().exec(("UPDATE sessions SET title = 'Spin', capacity = 6 WHERE id = " + std::to_string(s)).c_str());
  auto again = t.db.load_user(a);
  REQUIRE(again);
  CHECK(again->bookings[0].sess->title == "Spin");
  CHECK(again->bookings[0].sess->capacity == 6);
  CHECK(sa->bookings[0].sess->title == "HIIT");
  CHECK(sb->bookings[0].sess->capacity == 5);
}

TEST_CASE("sessions_at counts seats left") {
  small_db t;
  auto now = now_seconds();
  auto s = t.add_session(now + 24h, 2);
  t.db.book(t.add_user(1, 0), s, now);
  auto v = t.db.sessions_at(1, now, now + 48h);
  REQUIRE(v.size() == 1);
  CHECK(v[0].seats_left == 1);
  CHECK(t.db.sessions_at(1, now + 25h, now + 48h).empty());
  CHECK(t.db.sessions_at(2, now, now + 48h).empty());
}

TEST_CASE("tokens are found by their SHA-256, revoked ones are not") {
  small_db t;
  auto u = t.add_user(1, 1);
  sql::statement st{t.db.connection(), "INSERT INTO api_tokens (token_hash, user_id, role, revoked) VALUES (?1, ?2, ?3, ?4)"};
  st.bind(1, sha256_hex("secret-a")).bind(2, u).bind(3, "admin").bind(4, 0).run();
  st.bind(1, sha256_hex("secret-b")).bind(2, u).bind(3, "member").bind(4, 1).run();
  auto a = t.db.find_token(sha256_hex("secret-a"));
  REQUIRE(a);
  CHECK(a->user_id == u);
  CHECK(a->r == role::admin);
  CHECK(!t.db.find_token(sha256_hex("secret-b")));
  CHECK(!t.db.find_token(sha256_hex("secret-c")));
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto a1 = sha256("abc"), a2 = sha256("abc");
  CHECK(constant_time_equal(a1, a2));
  for (std::size_t i = 0; i < a1.size(); ++i) { // a difference in any byte, first or last word
    auto b = a1;
    b[i] ^= 0x01;
    CHECK(!constant_time_equal(a1, b));
  }
}

TEST_CASE("digests: the same on every thread, hex both ways") {
  const std::string abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  CHECK(to_hex(sha256("abc")) == abc);
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // FIPS 180-2's two-block message, and a million 'a's (a token is one block; these check the rest).
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
        == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(sha256_hex(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // Interleaved lengths on several threads give the same digests.
  std::vector<std::string> seen(8);
  std::vector<std::thread> ts;
  for (std::size_t i = 0; i < seen.size(); ++i)
    ts.emplace_back([&, i] {
      for (int k = 0; k <= 200; ++k) // ends on "abc"
        seen[i] = to_hex(sha256(k % 2 ? std::string(1000, 'x') : std::string{"abc"}));
    });
  for (auto& th : ts)
    th.join();
  for (auto& s : seen)
    CHECK(s == abc);
  auto d = digest_from_hex(abc);
  REQUIRE(d);
  CHECK(*d == sha256("abc"));
  std::string upper = abc;
  for (auto& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(digest_from_hex(upper) == d);
  CHECK(!digest_from_hex(abc.substr(1)));
  CHECK(!digest_from_hex(abc + "0"));
  CHECK(!digest_from_hex("g" + abc.substr(1)));
  CHECK(!digest_from_hex(""));
}

TEST_CASE("idempotency: replay returns the first response, mismatch changes nothing") {
  small_db t;
  auto now = now_seconds();
  auto u = t.add_user(5, 1);
  auto s = t.add_session(now + 48h, 5);
  int rendered = 0;
  auto respond = [&](const write_result& r) {
    ++rendered;
    return stored_response{r.error == error_code::none ? 201 : 409, "body-" + std::to_string(rendered)};
  };
  idempotency_request idem{"key-1", "hash-A"};
  write_command cmd{write_kind::book, s, {}};
  auto first = t.db.write(u, cmd, now, write_policy{}, &idem, respond);
  CHECK(first.response.status == 201);
  CHECK(!first.replayed);
  auto again = t.db.write(u, cmd, now, write_policy{}, &idem, respond);
  CHECK(again.replayed);
  CHECK(again.response.status == 201);
  CHECK(again.response.body == "body-1");
  CHECK(rendered == 1);
  CHECK(t.db.find_user(u)->credits == 4);
  idempotency_request other{"key-1", "hash-B"};
  auto mism = t.db.write(u, cmd, now, write_policy{}, &other, respond);
  CHECK(mism.mismatch);
  // The same key of another user is another key.
  auto v = t.add_user(5, 1);
  auto theirs = t.db.write(v, cmd, now, write_policy{}, &idem, respond);
  CHECK(!theirs.replayed);
  CHECK(theirs.response.status == 201);
  // Business failures are replayed too.
  idempotency_request k2{"key-2", "hash-C"};
  auto dup = t.db.write(u, cmd, now, write_policy{}, &k2, respond);
  CHECK(dup.response.status == 409);
  CHECK(t.db.write(u, cmd, now, write_policy{}, &k2, respond).response.body == dup.response.body);
  CHECK(t.db.purge_idempotency(now + 1s) == 3);
}

TEST_CASE("page queries use indexes") {
  small_db t;
  auto plan = [&](const char* sql) {
    sql::statement st{t.db.connection(), (std::string("EXPLAIN QUERY PLAN ") + sql).c_str()};
    std::string all;
    while (st.step())
      all += st.text(3) + "\n";
    return all;
  };
  auto p1 = plan("SELECT b.id FROM bookings b JOIN sessions s ON s.id = b.session_id WHERE b.user_id = 1 "
                 "ORDER BY s.starts_at, b.id");
  CHECK(p1.find("bookings_by_user") != std::string::npos);
  CHECK(p1.find("SCAN") == std::string::npos);
  auto p2 = plan("SELECT count(*) FROM bookings WHERE session_id = 1 AND status = 'booked'");
  CHECK(p2.find("bookings_by_session_status") != std::string::npos);
  auto p3 = plan("SELECT id FROM sessions s WHERE s.location_id = 1 AND s.starts_at >= 0 AND s.starts_at < 9");
  CHECK(p3.find("sessions_by_location_start") != std::string::npos);
  auto p4 = plan("SELECT user_id FROM api_tokens WHERE token_hash = 'x' AND revoked = 0");
  CHECK(p4.find("USING INDEX sqlite_autoindex_api_tokens") != std::string::npos);
}

TEST_CASE("many threads race for the last seats through separate connections") {
  small_db t;
  auto now = now_seconds();
  constexpr int capacity = 7, threads = 32;
  auto s = t.add_session(now + 48h, capacity);
  std::vector<id_type> users;
  for (int i = 0; i < threads; ++i)
    users.push_back(t.add_user(1, 1));
  std::atomic<int> ok{0}, full{0}, other{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> ts;
  for (int i = 0; i < threads; ++i)
    ts.emplace_back([&, i] {
      store mine{store_options{t.path, 5000}};
      while (!go)
        std::this_thread::yield();
      try {
        auto r = mine.book(users[static_cast<size_t>(i)], s, now);
        (r.error == error_code::none ? ok : r.error == error_code::session_full ? full : other)++;
      } catch (const sql::error&) {
        other++; // "database is busy" would land here
      }
    });
  go = true;
  for (auto& th : ts)
    th.join();
  CHECK(ok == capacity);
  CHECK(full == threads - capacity);
  CHECK(other == 0);
  CHECK(t.scalar("SELECT count(*) FROM bookings WHERE status = 'booked'") == capacity);
  CHECK(t.scalar("SELECT count(*) FROM users WHERE credits < 0") == 0);
}

TEST_CASE("one user's last credit raced across sessions: exactly one booking") {
  small_db t;
  auto now = now_seconds();
  auto u = t.add_user(1, 1);
  std::vector<id_type> sessions;
  for (int i = 0; i < 16; ++i)
    sessions.push_back(t.add_session(now + 48h, 5));
  std::atomic<int> ok{0}, poor{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 16; ++i)
    ts.emplace_back([&, i] {
      store mine{store_options{t.path, 5000}};
      auto r = mine.book(u, sessions[static_cast<size_t>(i)], now);
      (r.error == error_code::none ? ok : poor)++;
      CHECK((r.error == error_code::none || r.error == error_code::insufficient_credits));
    });
  for (auto& th : ts)
    th.join();
  CHECK(ok == 1);
  CHECK(poor == 15);
  CHECK(t.db.find_user(u)->credits == 0);
}

TEST_CASE("one booking's last leave raced: exactly one succeeds") {
  small_db t;
  auto now = now_seconds();
  auto u = t.add_user(8, 1);
  std::vector<id_type> bookings;
  for (int i = 0; i < 8; ++i)
    bookings.push_back(t.db.book(u, t.add_session(now + 48h, 5), now).b->id);
  std::atomic<int> ok{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 8; ++i)
    ts.emplace_back([&, i] {
      store mine{store_options{t.path, 5000}};
      if (mine.leave(u, bookings[static_cast<size_t>(i)], "", now).error == error_code::none)
        ok++;
    });
  for (auto& th : ts)
    th.join();
  CHECK(ok == 1);
  CHECK(t.db.find_user(u)->leave_quota == 0);
}
