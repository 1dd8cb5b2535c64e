// Domain types of the booking service. Plain data, no behaviour beyond small helpers.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <date/date.h>

namespace booking {

using id_type = std::int64_t;
/// A UTC instant with second precision.
using instant = date::sys_seconds;
/// A calendar date in the service time zone (a day count, no zone attached).
using local_date = date::sys_days;

enum class booking_status { booked, cancelled, leave };
/// What the page shows: `booked` splits into upcoming/completed by the session start.
enum class booking_state { upcoming, completed, cancelled, leave };
enum class role { member, admin };
enum class lang { en, zh_tw };

/// Every error a client can see, with its HTTP meaning decided in http/errors.cpp.
enum class error_code {
  none,
  invalid_request,
  unauthorized,
  forbidden,
  not_found,
  method_not_allowed,
  session_full,
  already_booked,
  session_closed,
  insufficient_credits,
  insufficient_leave_quota,
  not_cancellable,
  already_waitlisted,
  session_has_space,
  waitlist_full,
  not_withdrawable,
  capacity_below_booked,
  email_taken,
  length_required,
  payload_too_large,
  idempotency_mismatch,
  rate_limited,
  overloaded,
  unavailable,
  internal,
};

const char* to_string(booking_status s);
std::optional<booking_status> parse_status(const std::string& s);
const char* to_string(booking_state s);
const char* to_string(error_code e);

struct user {
  id_type id = 0;
  std::string name;
  std::string email;
  int credits = 0;
  int leave_quota = 0;
};

struct location {
  id_type id = 0;
  std::string name;
  std::string address;
};

struct session {
  id_type id = 0;
  id_type location_id = 0;
  std::string title;
  std::string coach;
  instant starts_at{};
  instant ends_at{};
  int capacity = 1;
};

struct session_view {
  session s;
  int seats_left = 0;
};

struct booking {
  id_type id = 0;
  id_type user_id = 0;
  id_type session_id = 0;
  booking_status status = booking_status::booked;
  std::string leave_reason;
  bool credit_refunded = false;
  instant created_at{};
  instant updated_at{};
  session sess; // the session it refers to (sessions never change once created)
};

struct stats {
  int upcoming = 0;
  int completed = 0;
  int cancelled = 0;
  int leave = 0;
  int credits_remaining = 0;
  int leave_quota_remaining = 0;
};

/// An inclusive range of local dates.
struct date_range {
  local_date from;
  local_date to;
  friend bool operator==(const date_range& a, const date_range& b) {
    return a.from == b.from && a.to == b.to;
  }
};

/// One ISO week (Monday first) of a booking page; `bookings` index into the page's booking list.
struct week {
  local_date week_start;
  std::vector<const booking*> bookings;
};

/// All a user's page is built from: the user row and every booking, ordered by starts_at, id.
struct user_snapshot {
  user u;
  std::vector<booking> bookings;
};

struct token_info {
  id_type user_id = 0;
  role r = role::member;
};

} // namespace booking
