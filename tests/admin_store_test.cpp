#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <atomic>
#include <thread>
#include <vector>

#include "fixtures.hpp"
#include "model/admin_store.hpp"
#include "model/promotion.hpp"
#include "model/token_hash.hpp"

using namespace booking;
using booking::test::small_db;
using booking::test::utc;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const instant now = utc("2026-11-25T10:00:00Z");

/// A small database with an admin user and an admin store over the fixture's connection.
struct admin_db : small_db {
  zone tz{"Asia/Taipei"};
  id_type admin = add_user(0, 0);
  std::vector<id_type> promote_calls; // sessions the promotion hook was asked about
  admin_store a{db.connection(), tz, [this](sql::connection&, id_type s, instant) {
                  promote_calls.push_back(s);
                  return promotion_fanout{};
                }};

  admin_call call(instant at = now) const { return admin_call{admin, at, nullptr, {}}; }
  int audits() { return scalar("SELECT count(*) FROM audit_events"); }
  /// Invariants of every test: credits = sum(ledger), nothing negative, no seat over capacity.
  void check_invariants() {
    CHECK(ledger_violations() == 0);
    CHECK(scalar("SELECT count(*) FROM users WHERE credits < 0 OR leave_quota < 0") == 0);
    CHECK(scalar("SELECT count(*) FROM sessions s WHERE (SELECT count(*) FROM bookings b WHERE b.session_id = s.id "
                 "AND b.status = 'booked') > s.capacity")
          == 0);
  }
  id_type join_waitlist(id_type user, id_type session, instant when) {
    sql::statement st{db.connection(), "INSERT INTO waitlist_entries (session_id, user_id, status, joined_at, "
                                       "updated_at) VALUES (?1, ?2, 'waiting', ?3, ?3)"};
    st.bind(1, session).bind(2, user).bind(3, when.time_since_epoch().count()).run();
    return db.connection().last_insert_id();
  }
};

} // namespace

TEST_CASE("locations: create and edit, one audit row each") {
  admin_db t;
  auto r = t.a.create_location(t.call(), "Studio B", "2 Road");
  REQUIRE(r.error == error_code::none);
  CHECK(r.status == 201);
  CHECK(r.locations_changed);
  auto id = r.body["id"].get<id_type>();
  CHECK(r.body["name"] == "Studio B");
  CHECK(t.audits() == 1);
  auto e = t.a.edit_location(t.call(), id, location_patch{std::nullopt, std::string("3 Road")});
  REQUIRE(e.error == error_code::none);
  CHECK(e.body["name"] == "Studio B");
  CHECK(e.body["address"] == "3 Road");
  CHECK(t.audits() == 2);
  CHECK(t.a.edit_location(t.call(), 999, location_patch{std::string("x"), std::nullopt}).error
        == error_code::not_found);
  CHECK(t.audits() == 2);
  auto log = t.a.audit(10).body["events"];
  REQUIRE(log.size() == 2);
  CHECK(log[0]["action"] == "location.update"); // newest first
  CHECK(log[0]["detail"]["changed"]["address"]["to"] == "3 Road");
  CHECK(log[0]["actor_id"] == t.admin);
  CHECK(log[1]["action"] == "location.create");
  t.check_invariants();
}

TEST_CASE("sessions: created in the future only, end after start, at an existing location") {
  admin_db t;
  session_input in{1, "Yoga", "Ann", now + 24h, now + 25h, 8, 3};
  auto r = t.a.create_session(t.call(), in);
  REQUIRE(r.error == error_code::none);
  CHECK(r.status == 201);
  CHECK(r.body["status"] == "scheduled");
  CHECK(r.body["capacity"] == 8);
  CHECK(r.body["waitlist_capacity"] == 3);
  CHECK(r.body["seats_left"] == 8);
  CHECK(r.body["starts_at"] == t.tz.format(now + 24h));
  auto bad = in;
  bad.starts_at = now - 1h;
  bad.ends_at = now + 1h;
  CHECK(t.a.create_session(t.call(), bad).error == error_code::invalid_request);
  bad = in;
  bad.ends_at = bad.starts_at;
  CHECK(t.a.create_session(t.call(), bad).error == error_code::invalid_request);
  bad = in;
  bad.capacity = 0;
  CHECK(t.a.create_session(t.call(), bad).error == error_code::invalid_request);
  bad = in;
  bad.location_id = 42;
  CHECK(t.a.create_session(t.call(), bad).error == error_code::not_found);
  CHECK(t.audits() == 1);
  CHECK(t.scalar("SELECT count(*) FROM sessions") == 1);
}

TEST_CASE("schedules: one session per matching date, one audit row, from today on") {
  admin_db t;
  schedule_input in;
  in.location_id = 1;
  in.title = "Spin";
  in.coach = "Bo";
  in.capacity = 12;
  in.recurrence.weekdays = {1, 3};
  in.recurrence.start_time = 19h;
  in.recurrence.duration = 50min;
  in.recurrence.from = *parse_date("2026-11-30");
  in.recurrence.to = *parse_date("2026-12-13");
  auto r = t.a.create_schedule(t.call(), in);
  REQUIRE(r.error == error_code::none);
  REQUIRE(r.body["sessions"].size() == 4);
  CHECK(r.body["sessions"][0]["starts_at"] == "2026-11-30T19:00:00+08:00");
  CHECK(r.body["sessions"][0]["ends_at"] == "2026-11-30T19:50:00+08:00");
  CHECK(r.body["sessions"][3]["starts_at"] == "2026-12-09T19:00:00+08:00");
  CHECK(t.audits() == 1);
  auto ev = t.a.audit(1).body["events"][0];
  CHECK(ev["action"] == "schedule.create");
  CHECK(ev["detail"]["session_ids"].size() == 4);

  auto past = in;
  past.recurrence.from = *parse_date("2026-11-24"); // yesterday in Taipei
  CHECK(t.a.create_schedule(t.call(), past).error == error_code::invalid_request);
  auto today = in; // today is allowed, but its 07:00 session is already past at 18:00 local
  today.recurrence.from = *parse_date("2026-11-25");
  today.recurrence.weekdays = {3};
  today.recurrence.start_time = 7h;
  CHECK(t.a.create_schedule(t.call(), today).error == error_code::invalid_request);
  today.recurrence.start_time = 20h;
  CHECK(t.a.create_schedule(t.call(), today).error == error_code::none);
  auto big = in;
  big.recurrence.weekdays = {1, 2, 3, 4, 5, 6, 7};
  big.recurrence.to = big.recurrence.from + date::days{200};
  CHECK(t.a.create_schedule(t.call(), big).error == error_code::invalid_request);
  CHECK(t.audits() == 2);
  CHECK(t.scalar("SELECT count(*) FROM sessions") == 4 + 3); // today 20:00, Dec 2 and Dec 9
}

TEST_CASE("edit session: capacity never below booked, raising it runs promotion, members reported") {
  admin_db t;
  auto s = t.add_session(now + 48h, 3);
  auto u1 = t.add_user(5, 1), u2 = t.add_user(5, 1), w = t.add_user(5, 1), on_leave = t.add_user(5, 1);
  // A leave booking stays on its member's page, with the session's title and times.
  auto l = t.db.book(on_leave, s, now);
  REQUIRE(l.error == error_code::none);
  REQUIRE(t.db.leave(on_leave, l.b->id, "trip", now).error == error_code::none);
  REQUIRE(t.db.book(u1, s, now).error == error_code::none);
  REQUIRE(t.db.book(u2, s, now).error == error_code::none);
  t.join_waitlist(w, s, now);

  session_patch p;
  p.capacity = 1;
  CHECK(t.a.edit_session(t.call(), s, p).error == error_code::capacity_below_booked);
  CHECK(t.audits() == 0);
  p.capacity = 2;
  auto r = t.a.edit_session(t.call(), s, p);
  REQUIRE(r.error == error_code::none);
  CHECK(t.promote_calls.empty()); // lowered: nothing to promote
  p.capacity = 4;
  r = t.a.edit_session(t.call(), s, p);
  REQUIRE(r.error == error_code::none);
  CHECK(t.promote_calls == std::vector<id_type>{s});

  session_patch times;
  times.starts_at = now + 72h;
  times.ends_at = now + 73h;
  times.title = std::string("Power HIIT");
  r = t.a.edit_session(t.call(), s, times);
  REQUIRE(r.error == error_code::none);
  CHECK(r.body["starts_at"] == t.tz.format(now + 72h));
  CHECK(r.body["title"] == "Power HIIT");
  auto affected = r.affected_users;
  std::sort(affected.begin(), affected.end());
  CHECK(affected == std::vector<id_type>{u1, u2, w, on_leave});
  auto snap = t.db.load_user(u1);
  CHECK(snap->bookings[0].sess->starts_at == now + 72h);
  auto ev = t.a.audit(1).body["events"][0];
  CHECK(ev["action"] == "session.update");
  CHECK(ev["detail"]["changed"]["title"]["to"] == "Power HIIT");
  CHECK(ev["detail"]["changed"].contains("starts_at"));
  CHECK(!ev["detail"]["changed"].contains("capacity"));

  session_patch backwards;
  backwards.ends_at = now + 71h;
  CHECK(t.a.edit_session(t.call(), s, backwards).error == error_code::invalid_request);
  session_patch past;
  past.starts_at = now - 1h;
  CHECK(t.a.edit_session(t.call(), s, past).error == error_code::invalid_request);
  CHECK(t.a.edit_session(t.call(), 999, p).error == error_code::not_found);
  CHECK(t.a.edit_session(t.call(now + 80h), s, p).error == error_code::session_closed); // started
  CHECK(t.audits() == 3);
  t.check_invariants();
}

TEST_CASE("studio cancel refunds every booked member whatever the window, once") {
  admin_db t;
  auto s = t.add_session(now + 2h, 5); // inside the 12 h window: a member's cancel would not refund
  auto u1 = t.add_user(3, 1), u2 = t.add_user(1, 1), w = t.add_user(2, 0), gone = t.add_user(4, 0);
  REQUIRE(t.db.book(u1, s, now - 48h).error == error_code::none);
  REQUIRE(t.db.book(u2, s, now - 48h).error == error_code::none);
  auto g = t.db.book(gone, s, now - 48h);
  REQUIRE(t.db.cancel(gone, g.b->id, now - 47h, 12h).error == error_code::none);
  auto entry = t.join_waitlist(w, s, now - 1h);

  auto r = t.a.cancel_session(t.call(), s, "coach ill");
  REQUIRE(r.error == error_code::none);
  CHECK(r.body["status"] == "cancelled");
  CHECK(r.body["seats_left"] == 0);
  CHECK(t.scalar("SELECT credits FROM users WHERE id = " + std::to_string(u1)) == 3);
  CHECK(t.scalar("SELECT credits FROM users WHERE id = " + std::to_string(u2)) == 1);
  CHECK(t.scalar("SELECT credits FROM users WHERE id = " + std::to_string(gone)) == 4); // refunded by own cancel
  CHECK(t.scalar("SELECT count(*) FROM bookings WHERE session_id = " + std::to_string(s)
                 + " AND cancelled_by = 'studio' AND credit_refunded = 1 AND status = 'cancelled'")
        == 2);
  CHECK(t.scalar("SELECT count(*) FROM credit_ledger WHERE reason = 'studio_cancel'") == 2);
  CHECK(t.scalar("SELECT count(*) FROM credit_ledger WHERE reason = 'studio_cancel' AND actor_user_id = "
                 + std::to_string(t.admin) + " AND booking_id IS NOT NULL")
        == 2);
  CHECK(t.scalar("SELECT status = 'cancelled' FROM waitlist_entries WHERE id = " + std::to_string(entry)) == 1);
  auto affected = r.affected_users;
  std::sort(affected.begin(), affected.end());
  // `gone` cancelled their own booking earlier: it stays on their page, whose session is now cancelled.
  CHECK(affected == std::vector<id_type>{u1, u2, w, gone});
  CHECK(t.audits() == 1);
  CHECK(t.a.audit(1).body["events"][0]["detail"]["reason"] == "coach ill");

  auto again = t.a.cancel_session(t.call(), s, "");
  CHECK(again.error == error_code::none);
  CHECK(again.status == 200);
  CHECK(again.body["status"] == "cancelled");
  CHECK(again.affected_users.empty());
  CHECK(t.scalar("SELECT count(*) FROM credit_ledger WHERE reason = 'studio_cancel'") == 2);
  CHECK(t.a.cancel_session(t.call(), 999, "").error == error_code::not_found);
  auto started = t.add_session(now - 1h, 5);
  CHECK(t.a.cancel_session(t.call(), started, "").error == error_code::session_closed);
  // A cancelled session is closed to edits.
  session_patch p;
  p.title = std::string("x");
  CHECK(t.a.edit_session(t.call(), s, p).error == error_code::session_closed);
  t.check_invariants();
}

TEST_CASE("studio cancel called twice at once from two connections refunds exactly once") {
  for (int round = 0; round < 5; ++round) {
    admin_db t;
    auto s = t.add_session(now + 24h, 30);
    std::vector<id_type> members;
    for (int i = 0; i < 20; ++i) {
      members.push_back(t.add_user(2, 0));
      REQUIRE(t.db.book(members.back(), s, now).error == error_code::none);
    }
    std::atomic<int> ready{0};
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int k = 0; k < 2; ++k)
      threads.emplace_back([&] {
        sql::connection c{t.path, 10000};
        admin_store a{c, t.tz};
        ++ready;
        while (ready.load() < 2) {
        }
        auto r = a.cancel_session(admin_call{t.admin, now, nullptr, {}}, s, "");
        if (r.error == error_code::none && r.status == 200)
          ++ok;
      });
    for (auto& th : threads)
      th.join();
    CHECK(ok == 2);
    CHECK(t.scalar("SELECT count(*) FROM credit_ledger WHERE reason = 'studio_cancel'") == 20);
    CHECK(t.scalar("SELECT count(*) FROM users WHERE credits = 2 AND id != " + std::to_string(t.admin)) == 20);
    CHECK(t.audits() == 2);
    t.check_invariants();
  }
}

TEST_CASE("members: create with a one-time token (hash only), email_taken, read") {
  admin_db t;
  auto r = t.a.create_member(t.call(), member_input{"Mia", "Mia@Example.org", 5, 2});
  REQUIRE(r.error == error_code::none);
  CHECK(r.status == 201);
  auto token = r.body["token"].get<std::string>();
  CHECK(token.size() == 43);
  auto id = r.body["member"]["id"].get<id_type>();
  CHECK(r.body["member"]["credits"] == 5);
  CHECK(r.body["member"]["active"] == true);
  CHECK(t.scalar("SELECT count(*) FROM api_tokens WHERE token_hash = '" + sha256_hex(token) + "' AND user_id = "
                 + std::to_string(id) + " AND role = 'member'")
        == 1);
  CHECK(t.scalar("SELECT count(*) FROM api_tokens WHERE token_hash = '" + token + "'") == 0);
  auto found = t.db.find_token(sha256_hex(token));
  REQUIRE(found);
  CHECK(found->user_id == id);
  CHECK(t.scalar("SELECT count(*) FROM credit_ledger WHERE user_id = " + std::to_string(id)
                 + " AND reason = 'opening' AND delta = 5")
        == 1);
  CHECK(t.a.create_member(t.call(), member_input{"Other", "mia@example.ORG", 0, 0}).error
        == error_code::email_taken);
  auto m = t.a.member(id);
  CHECK(m.body["email"] == "Mia@Example.org");
  CHECK(m.body["leave_quota"] == 2);
  CHECK(t.a.member(999).error == error_code::not_found);
  CHECK(t.audits() == 1);
  auto ev = t.a.audit(1).body["events"][0];
  CHECK(ev["action"] == "member.create");
  CHECK(ev["detail"].dump().find(token) == std::string::npos);
  CHECK(new_token() != new_token());
  t.check_invariants();
}

TEST_CASE("deactivate: tokens revoked, upcoming bookings refunded by admin, waitlist withdrawn, history kept") {
  admin_db t;
  auto m = t.a.create_member(t.call(), member_input{"Kai", "kai@x", 4, 1});
  auto id = m.body["member"]["id"].get<id_type>();
  auto second = t.a.issue_token(t.call(), id);
  REQUIRE(second.error == error_code::none);
  CHECK(second.status == 201);
  auto past = t.add_session(now - 24h, 5), soon = t.add_session(now + 1h, 5), later = t.add_session(now + 72h, 1);
  REQUIRE(t.db.book(id, past, now - 48h).error == error_code::none);
  REQUIRE(t.db.book(id, soon, now - 48h).error == error_code::none);
  REQUIRE(t.db.book(id, later, now - 48h).error == error_code::none);
  auto full = t.add_session(now + 30h, 1);
  auto other = t.add_user(3, 0);
  REQUIRE(t.db.book(other, full, now).error == error_code::none);
  t.join_waitlist(id, full, now);

  auto r = t.a.deactivate_member(t.call(), id);
  REQUIRE(r.error == error_code::none);
  CHECK(r.body["active"] == false);
  CHECK(r.revoked_token_hashes.size() == 2);
  CHECK(t.scalar("SELECT count(*) FROM api_tokens WHERE user_id = " + std::to_string(id) + " AND revoked = 0") == 0);
  CHECK(t.scalar("SELECT count(*) FROM bookings WHERE user_id = " + std::to_string(id)
                 + " AND status = 'cancelled' AND cancelled_by = 'admin' AND credit_refunded = 1")
        == 2);
  CHECK(t.scalar("SELECT status = 'booked' FROM bookings WHERE session_id = " + std::to_string(past)) == 1);
  CHECK(t.scalar("SELECT credits FROM users WHERE id = " + std::to_string(id)) == 4 - 3 + 2);
  CHECK(t.scalar("SELECT count(*) FROM waitlist_entries WHERE user_id = " + std::to_string(id)
                 + " AND status = 'withdrawn'")
        == 1);
  auto calls = t.promote_calls;
  std::sort(calls.begin(), calls.end());
  CHECK(calls == std::vector<id_type>{soon, later});
  CHECK(std::find(r.affected_users.begin(), r.affected_users.end(), id) != r.affected_users.end());
  CHECK(t.db.find_token(sha256_hex(m.body["token"].get<std::string>())) == std::nullopt);

  auto again = t.a.deactivate_member(t.call(), id);
  CHECK(again.error == error_code::none);
  CHECK(again.revoked_token_hashes.empty());
  CHECK(t.a.issue_token(t.call(), id).error == error_code::invalid_request);
  CHECK(t.a.deactivate_member(t.call(), 999).error == error_code::not_found);
  CHECK(t.audits() == 4); // create, issue, deactivate, deactivate again
  t.check_invariants();
}

TEST_CASE("tokens: issue and revoke, revoking again changes nothing") {
  admin_db t;
  auto u = t.add_user(1, 0);
  auto issued = t.a.issue_token(t.call(), u);
  REQUIRE(issued.error == error_code::none);
  auto token_id = issued.body["token_id"].get<id_type>();
  auto hash = sha256_hex(issued.body["token"].get<std::string>());
  CHECK(t.db.find_token(hash));
  auto r = t.a.revoke_token(t.call(), token_id);
  REQUIRE(r.error == error_code::none);
  CHECK(r.revoked_token_hashes == std::vector<std::string>{hash});
  CHECK(!t.db.find_token(hash));
  auto again = t.a.revoke_token(t.call(), token_id);
  CHECK(again.error == error_code::none);
  CHECK(again.revoked_token_hashes.empty());
  CHECK(t.a.revoke_token(t.call(), 999).error == error_code::not_found);
  CHECK(t.a.issue_token(t.call(), 999).error == error_code::not_found);
  CHECK(t.audits() == 3);
}

TEST_CASE("an admin token from the command line: the active user with the email, hash only, audited") {
  admin_db t;
  auto u = t.add_user(1, 0);
  sql::statement st{t.db.connection(), "SELECT email FROM users WHERE id = ?1"};
  st.bind(1, u);
  REQUIRE(st.step());
  auto email = st.text(0);
  st.reset();
  std::string upper = email;
  for (auto& ch : upper)
    ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  auto issued = issue_admin_token(t.db.connection(), upper, now);
  REQUIRE(issued);
  CHECK(issued->user_id == u);
  auto who = t.db.find_token(sha256_hex(issued->token));
  REQUIRE(who);
  CHECK(who->user_id == u);
  CHECK(who->r == role::admin);
  CHECK(t.scalar("SELECT count(*) FROM api_tokens WHERE token_hash = '" + issued->token + "'") == 0); // hash only
  auto ev = t.a.audit(1).body["events"][0];
  CHECK(ev["action"] == "token.issue");
  CHECK(ev["actor_id"].is_null());
  CHECK(ev["target_id"] == issued->token_id);
  CHECK(ev["detail"]["role"] == "admin");
  CHECK(!issue_admin_token(t.db.connection(), "nobody@x", now));
  REQUIRE(t.a.deactivate_member(t.call(), u).error == error_code::none);
  CHECK(!issue_admin_token(t.db.connection(), email, now)); // a deactivated user gets none
  CHECK(!t.db.find_token(sha256_hex(issued->token)));       // and its tokens went with it
}

TEST_CASE("credits: grants and adjustments with a reason, never below zero; ledger newest first") {
  admin_db t;
  auto u = t.add_user(2, 0);
  auto g = t.a.change_credits(t.call(), u, 10, "monthly pack");
  REQUIRE(g.error == error_code::none);
  CHECK(g.body["balance"] == 12);
  CHECK(g.body["entry"]["reason"] == "grant");
  CHECK(g.body["entry"]["delta"] == 10);
  CHECK(g.body["entry"]["actor_id"] == t.admin);
  CHECK(g.affected_users == std::vector<id_type>{u});
  auto a = t.a.change_credits(t.call(now + 1s), u, -12, "refund of pack");
  REQUIRE(a.error == error_code::none);
  CHECK(a.body["balance"] == 0);
  CHECK(a.body["entry"]["reason"] == "adjustment");
  CHECK(t.a.change_credits(t.call(), u, -1, "x").error == error_code::insufficient_credits);
  CHECK(t.a.change_credits(t.call(), u, 0, "x").error == error_code::invalid_request);
  CHECK(t.a.change_credits(t.call(), u, 1001, "x").error == error_code::invalid_request);
  CHECK(t.a.change_credits(t.call(), 999, 1, "x").error == error_code::not_found);
  auto l = t.a.ledger(u, 2).body["entries"];
  REQUIRE(l.size() == 2);
  CHECK(l[0]["reason"] == "adjustment");
  CHECK(l[1]["reason"] == "grant");
  CHECK(t.a.ledger(u, 10).body["entries"].size() == 3); // + opening
  CHECK(t.a.ledger(999, 10).error == error_code::not_found);
  auto ev = t.a.audit(10).body["events"];
  REQUIRE(ev.size() == 2);
  CHECK(ev[0]["action"] == "credits.adjust");
  CHECK(ev[0]["detail"]["reason"] == "refund of pack");
  CHECK(ev[1]["detail"]["reason"] == "monthly pack");
  // The next page starts below the last id read; the last page is empty.
  auto all = t.a.ledger(u, 10).body["entries"];
  auto next = t.a.ledger(u, 2, all[1]["id"].get<id_type>()).body["entries"];
  REQUIRE(next.size() == 1);
  CHECK(next[0] == all[2]);
  CHECK(t.a.ledger(u, 10, all[2]["id"].get<id_type>()).body["entries"].empty());
  CHECK(t.a.ledger(999, 10, 5).error == error_code::not_found);
  auto older = t.a.audit(10, ev[0]["id"].get<id_type>()).body["events"];
  REQUIRE(older.size() == 1);
  CHECK(older[0] == ev[1]);
  t.check_invariants();
}

TEST_CASE("idempotency: a retry replays, another request with the key is refused, tokens are not kept") {
  admin_db t;
  idempotency_request k{"key-1", "hash-A"};
  auto respond = [](const admin_result& r) {
    return r.error == error_code::none ? stored_response{r.status, r.body.dump()} : stored_response{409, "{}"};
  };
  admin_call c{t.admin, now, &k, respond};
  auto u = t.add_user(0, 0);
  auto first = t.a.change_credits(c, u, 5, "pack");
  REQUIRE(first.error == error_code::none);
  auto again = t.a.change_credits(c, u, 5, "pack");
  CHECK(again.replayed);
  CHECK(again.response.body == first.response.body);
  CHECK(t.scalar("SELECT credits FROM users WHERE id = " + std::to_string(u)) == 5);
  idempotency_request other{"key-1", "hash-B"};
  admin_call c2{t.admin, now, &other, respond};
  auto mismatch = t.a.change_credits(c2, u, 7, "pack");
  CHECK(mismatch.mismatch);
  CHECK(mismatch.error == error_code::idempotency_mismatch);
  CHECK(t.audits() == 1);

  idempotency_request mk{"key-2", "hash-C"};
  admin_call c3{t.admin, now, &mk, respond};
  auto m = t.a.create_member(c3, member_input{"Zed", "zed@x", 0, 0});
  REQUIRE(m.error == error_code::none);
  auto token = m.body["token"].get<std::string>();
  CHECK(m.response.body.find(token) != std::string::npos); // shown once
  auto replay = t.a.create_member(c3, member_input{"Zed", "zed@x", 0, 0});
  CHECK(replay.replayed);
  CHECK(replay.response.body.find(token) == std::string::npos); // never stored
  CHECK(json::parse(replay.response.body)["token"].is_null());
  CHECK(t.scalar("SELECT count(*) FROM users WHERE email = 'zed@x'") == 1);
  t.check_invariants();
}

TEST_CASE("audit rows cannot be changed or deleted") {
  admin_db t;
  t.a.create_location(t.call(), "L", "A");
  CHECK_THROWS_AS(t.db.connection().exec("UPDATE audit_events SET action = 'x'"), sql::error);
  CHECK_THROWS_AS(t.db.connection().exec("DELETE FROM audit_events"), sql::error);
  CHECK(t.audits() == 1);
}

TEST_CASE("with the waitlist's promotion: raising capacity and deactivating a member promote in order") {
  small_db t;
  zone tz{"Asia/Taipei"};
  auto admin = t.add_user(0, 0);
  admin_store a{t.db.connection(), tz, [](sql::connection& c, id_type s, instant at) {
                  auto out = promote_waitlist(c, s, at, 14h);
                  return promotion_fanout{out.promoted_users, out.promoted_users};
                }};
  auto call = admin_call{admin, now, nullptr, {}};
  auto s = t.add_session(now + 48h, 1);
  auto booker = t.add_user(3, 0), first = t.add_user(2, 0), broke = t.add_user(0, 0), second = t.add_user(2, 0);
  REQUIRE(t.db.book(booker, s, now).error == error_code::none);
  auto join = [&](id_type u, instant when) {
    sql::statement st{t.db.connection(), "INSERT INTO waitlist_entries (session_id, user_id, status, joined_at, "
                                         "updated_at) VALUES (?1, ?2, 'waiting', ?3, ?3)"};
    st.bind(1, s).bind(2, u).bind(3, when.time_since_epoch().count()).run();
  };
  join(first, now - 3h);
  join(broke, now - 2h);
  join(second, now - 1h);
  session_patch p;
  p.capacity = 2;
  auto r = a.edit_session(call, s, p);
  REQUIRE(r.error == error_code::none);
  CHECK(r.promoted_users == std::vector<id_type>{first});
  CHECK(std::find(r.affected_users.begin(), r.affected_users.end(), first) != r.affected_users.end());
  CHECK(std::find(r.affected_users.begin(), r.affected_users.end(), second) != r.affected_users.end());
  CHECK(t.scalar("SELECT credits FROM users WHERE id = " + std::to_string(first)) == 1);
  CHECK(t.scalar("SELECT count(*) FROM bookings WHERE via_waitlist = 1 AND user_id = " + std::to_string(first)) == 1);
  CHECK(r.body["seats_left"] == 0);

  // The booker leaves the studio: their seat goes to the next eligible member (`broke` is skipped).
  auto d = a.deactivate_member(call, booker);
  REQUIRE(d.error == error_code::none);
  CHECK(d.promoted_users == std::vector<id_type>{second});
  CHECK(t.scalar("SELECT count(*) FROM bookings WHERE session_id = " + std::to_string(s) + " AND status = 'booked'")
        == 2);
  CHECK(t.scalar("SELECT count(*) FROM waitlist_entries WHERE status = 'skipped' AND user_id = "
                 + std::to_string(broke))
        == 1);
  CHECK(t.scalar("SELECT count(*) FROM credit_ledger WHERE reason = 'promotion'") == 2);
  CHECK(t.ledger_violations() == 0);
  CHECK(t.scalar("SELECT count(*) FROM audit_events") == 2);
}
