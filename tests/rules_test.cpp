#include <doctest/doctest.h>

#include "fixtures.hpp"
#include "model/rules.hpp"

using namespace booking;
using booking::test::utc;
using namespace std::chrono_literals;

namespace {

book_facts bookable(instant starts) {
  book_facts f;
  f.sess = session{1, 1, "HIIT", "Coach", starts, starts + 1h, 10};
  f.booked_count = 9;
  f.credits = 1;
  return f;
}

booking_facts owned_booked(instant starts) {
  booking_facts f;
  f.exists_and_owned = true;
  f.status = booking_status::booked;
  f.starts_at = starts;
  f.leave_quota = 1;
  return f;
}

} // namespace

TEST_CASE("book: last seat and last credit succeed, then fail") {
  auto now = utc("2026-11-25T00:00:00Z");
  auto f = bookable(now + 1h);
  CHECK(check_book(f, now) == error_code::none);
  f.booked_count = 10;
  CHECK(check_book(f, now) == error_code::session_full);
  f = bookable(now + 1h);
  f.credits = 0;
  CHECK(check_book(f, now) == error_code::insufficient_credits);
  f.active = false; // a deactivated member: the credit error still comes first, as for a waitlist join
  CHECK(check_book(f, now) == error_code::insufficient_credits);
  f.credits = 3;
  CHECK(check_book(f, now) == error_code::forbidden);
}

TEST_CASE("book: session started or missing, already booked") {
  auto now = utc("2026-11-25T00:00:00Z");
  auto f = bookable(now);
  CHECK(check_book(f, now) == error_code::session_closed); // starts exactly now
  f = bookable(now + 1s);
  CHECK(check_book(f, now) == error_code::none);
  f.already_booked = true;
  CHECK(check_book(f, now) == error_code::already_booked);
  f.sess.reset();
  CHECK(check_book(f, now) == error_code::not_found);
}

TEST_CASE("book: the first failing rule is reported") {
  auto now = utc("2026-11-25T00:00:00Z");
  book_facts f = bookable(now - 1h); // started, full, booked, no credits
  f.already_booked = true;
  f.booked_count = 10;
  f.credits = 0;
  CHECK(check_book(f, now) == error_code::session_closed);
  f.sess->starts_at = now + 1h;
  CHECK(check_book(f, now) == error_code::already_booked);
  f.already_booked = false;
  CHECK(check_book(f, now) == error_code::session_full);
  f.booked_count = 0;
  CHECK(check_book(f, now) == error_code::insufficient_credits);
}

TEST_CASE("cancel: refund only at least cancel_window before the start") {
  auto now = utc("2026-11-25T00:00:00Z");
  auto f = owned_booked(now + 12h);
  auto d = check_cancel(f, now, 12h);
  CHECK(d.error == error_code::none);
  CHECK(d.refund); // exactly at the boundary
  f.starts_at = now + 12h - 1s;
  d = check_cancel(f, now, 12h);
  CHECK(d.error == error_code::none);
  CHECK(!d.refund);
  f.starts_at = now;
  CHECK(check_cancel(f, now, 12h).error == error_code::session_closed);
}

TEST_CASE("cancel: foreign, missing, not booked") {
  auto now = utc("2026-11-25T00:00:00Z");
  booking_facts foreign; // not owned looks exactly like missing
  CHECK(check_cancel(foreign, now, 12h).error == error_code::not_found);
  auto f = owned_booked(now + 24h);
  f.status = booking_status::cancelled;
  CHECK(check_cancel(f, now, 12h).error == error_code::not_cancellable);
  f.status = booking_status::leave;
  CHECK(check_cancel(f, now, 12h).error == error_code::not_cancellable);
  f.starts_at = now - 1h; // started and not booked: session_closed comes first
  CHECK(check_cancel(f, now, 12h).error == error_code::session_closed);
}

TEST_CASE("leave: last leave, started, not booked, foreign") {
  auto now = utc("2026-11-25T00:00:00Z");
  auto f = owned_booked(now + 1h);
  CHECK(check_leave(f, now) == error_code::none);
  f.leave_quota = 0;
  CHECK(check_leave(f, now) == error_code::insufficient_leave_quota);
  f.status = booking_status::leave;
  CHECK(check_leave(f, now) == error_code::not_cancellable);
  f.starts_at = now;
  CHECK(check_leave(f, now) == error_code::session_closed);
  CHECK(check_leave(booking_facts{}, now) == error_code::not_found);
}

TEST_CASE("leave reasons: UTF-8 and at most 500 code points") {
  CHECK(valid_reason(""));
  CHECK(valid_reason("出差 trip"));
  CHECK(valid_reason(std::string(500, 'a')));
  CHECK(!valid_reason(std::string(501, 'a')));
  std::string cjk;
  for (int i = 0; i < 500; ++i)
    cjk += "假"; // 3 bytes each: 1500 bytes, 500 code points
  CHECK(valid_reason(cjk));
  CHECK(!valid_reason(cjk + "假"));
  CHECK(!valid_reason("\xff"));
  CHECK(!valid_reason("\xc0\xaf"));         // overlong '/'
  CHECK(!valid_reason("\xed\xa0\x80"));     // surrogate
  CHECK(!valid_reason("\xe5\x81"));         // truncated
  CHECK(!valid_reason("\xf4\x90\x80\x80")); // above U+10FFFF
  CHECK(valid_reason("\xf0\x9f\x92\xaa"));  // emoji
}

TEST_CASE("state and stats") {
  auto now = utc("2026-11-25T00:00:00Z");
  CHECK(state_of(booking_status::booked, now + 1s, now) == booking_state::upcoming);
  CHECK(state_of(booking_status::booked, now, now) == booking_state::completed);
  CHECK(state_of(booking_status::cancelled, now + 1h, now) == booking_state::cancelled);
  CHECK(state_of(booking_status::leave, now - 1h, now) == booking_state::leave);
  user_snapshot snap;
  snap.u.credits = 3;
  snap.u.leave_quota = 2;
  auto add = [&](booking_status s, instant t) {
    booking::booking b;
    b.status = s;
    b.sess.edit().starts_at = t;
    snap.bookings.push_back(b);
  };
  add(booking_status::booked, now + 1h);
  add(booking_status::booked, now - 1h);
  add(booking_status::booked, now - 2h);
  add(booking_status::cancelled, now + 1h);
  add(booking_status::leave, now + 1h);
  auto st = compute_stats(snap, now);
  CHECK(st.upcoming == 1);
  CHECK(st.completed == 2);
  CHECK(st.cancelled == 1);
  CHECK(st.leave == 1);
  CHECK(st.credits_remaining == 3);
  CHECK(st.leave_quota_remaining == 2);
}

TEST_CASE("waitlist join: each rule alone, then SPEC's precedence") {
  auto now = utc("2026-11-25T00:00:00Z");
  auto starts = now + 48h;
  auto joinable = [&] {
    join_facts f;
    f.sess = session{1, 1, "HIIT", "Coach", starts, starts + 1h, 10};
    f.booked_count = 10;
    f.waiting_count = 9;
    f.credits = 1;
    return f;
  };
  CHECK(check_join(joinable(), now, 14h) == error_code::none);
  auto f = joinable();
  f.sess.reset();
  CHECK(check_join(f, now, 14h) == error_code::not_found);
  f = joinable();
  f.sess->status = session_status::cancelled;
  CHECK(check_join(f, now, 14h) == error_code::session_closed);
  CHECK(check_join(joinable(), starts - 14h, 14h) == error_code::session_closed); // the cut-off itself
  CHECK(check_join(joinable(), starts - 14h - 1s, 14h) == error_code::none);
  CHECK(check_join(joinable(), starts, 0s) == error_code::session_closed);
  f = joinable();
  f.already_booked = true;
  CHECK(check_join(f, now, 14h) == error_code::already_booked);
  f = joinable();
  f.already_waitlisted = true;
  CHECK(check_join(f, now, 14h) == error_code::already_waitlisted);
  f = joinable();
  f.booked_count = 9;
  CHECK(check_join(f, now, 14h) == error_code::session_has_space);
  f = joinable();
  f.waiting_count = 10;
  CHECK(check_join(f, now, 14h) == error_code::waitlist_full);
  f = joinable();
  f.credits = 0;
  CHECK(check_join(f, now, 14h) == error_code::insufficient_credits);
  f = joinable();
  f.active = false;
  CHECK(check_join(f, now, 14h) == error_code::forbidden);

  // Everything wrong at once: each failure is reported only after the ones before it are fixed.
  f = joinable();
  f.sess->status = session_status::cancelled;
  f.already_booked = f.already_waitlisted = true;
  f.booked_count = 0;
  f.waiting_count = 10;
  f.credits = 0;
  f.active = false;
  CHECK(check_join(f, now, 14h) == error_code::session_closed);
  f.sess->status = session_status::scheduled;
  CHECK(check_join(f, now, 14h) == error_code::already_booked);
  f.already_booked = false;
  CHECK(check_join(f, now, 14h) == error_code::already_waitlisted);
  f.already_waitlisted = false;
  CHECK(check_join(f, now, 14h) == error_code::session_has_space);
  f.booked_count = 10;
  CHECK(check_join(f, now, 14h) == error_code::waitlist_full);
  f.waiting_count = 0;
  CHECK(check_join(f, now, 14h) == error_code::insufficient_credits);
  f.credits = 1;
  CHECK(check_join(f, now, 14h) == error_code::forbidden);
}

TEST_CASE("waitlist withdraw and entry state") {
  CHECK(check_withdraw(withdraw_facts{}) == error_code::not_found);
  CHECK(check_withdraw(withdraw_facts{true, waitlist_status::waiting}) == error_code::none);
  for (auto st : {waitlist_status::promoted, waitlist_status::withdrawn, waitlist_status::skipped,
                  waitlist_status::cancelled})
    CHECK(check_withdraw(withdraw_facts{true, st}) == error_code::not_withdrawable);
  auto now = utc("2026-11-25T00:00:00Z");
  session s{1, 1, "HIIT", "Coach", now + 20h, now + 21h, 10};
  CHECK(waitlist_state_of(s, now, 14h) == waitlist_state::waiting);
  CHECK(waitlist_state_of(s, now + 6h, 14h) == waitlist_state::expired);
  CHECK(waitlist_state_of(s, now + 6h - 1s, 14h) == waitlist_state::waiting);
  s.status = session_status::cancelled;
  CHECK(waitlist_state_of(s, now, 14h) == waitlist_state::expired);
}

TEST_CASE("a cancelled session cannot be booked (session_closed before the other checks)") {
  auto now = utc("2026-11-25T00:00:00Z");
  auto f = bookable(now + 48h);
  f.sess->status = session_status::cancelled;
  f.already_booked = true;
  CHECK(check_book(f, now) == error_code::session_closed);
}
