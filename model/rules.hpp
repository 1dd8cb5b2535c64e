// The business rules of SPEC §3 as pure functions over the facts the store gathered inside its
// transaction. The order of checks is the order in which failures are reported.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "model/types.hpp"

namespace booking {

struct book_facts {
  std::optional<session> sess; // nullopt: no such session
  bool already_booked = false; // the user holds a `booked` row for it
  int booked_count = 0;        // `booked` rows of the session
  int credits = 0;
  bool active = true;          // false: a deactivated member, reachable only through an admin's `?user_id=`
};

struct booking_facts {
  bool exists_and_owned = false; // the booking exists and belongs to the caller
  booking_status status = booking_status::booked;
  instant starts_at{};
  int leave_quota = 0;
};

error_code check_book(const book_facts& f, instant now);

struct cancel_decision {
  error_code error = error_code::none;
  bool refund = false;
};
cancel_decision check_cancel(const booking_facts& f, instant now, std::chrono::seconds cancel_window);

error_code check_leave(const booking_facts& f, instant now);

struct join_facts {
  std::optional<session> sess;     // nullopt: no such session (or no such user)
  bool already_booked = false;     // the user holds a `booked` row for it
  bool already_waitlisted = false; // the user holds a `waiting` entry for it
  int booked_count = 0;
  int waiting_count = 0;
  int credits = 0;
  bool active = true;
};

/// The waitlist cut-off of a session: joins and promotions happen strictly before it.
inline instant waitlist_cutoff_of(const session& s, std::chrono::seconds cutoff) { return s.starts_at - cutoff; }

/// SPEC §3 join precedence: not_found, session_closed (started, cancelled or past the cut-off),
/// already_booked / already_waitlisted, session_has_space, waitlist_full, insufficient_credits; an
/// inactive member (reachable only through an admin's `?user_id=`) is `forbidden` last.
error_code check_join(const join_facts& f, instant now, std::chrono::seconds cutoff);

struct withdraw_facts {
  bool exists_and_owned = false;
  waitlist_status status = waitlist_status::waiting;
};
error_code check_withdraw(const withdraw_facts& f);

/// `expired` once the cut-off has passed: the entry can no longer be promoted.
waitlist_state waitlist_state_of(const session& s, instant now, std::chrono::seconds cutoff);

/// Valid UTF-8 (no overlongs, no surrogates) and at most `max_code_points` code points.
bool valid_reason(std::string_view text, size_t max_code_points = 500);

booking_state state_of(booking_status s, instant starts_at, instant now);

/// Stats over all of a user's bookings (not just a page's range).
stats compute_stats(const user_snapshot& snap, instant now);

} // namespace booking
