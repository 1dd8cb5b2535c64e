// Domain types of the booking service. Plain data, no behaviour beyond small helpers.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <date/date.h>

namespace booking {

using id_type = std::int64_t;
/// A UTC instant with second precision.
using instant = date::sys_seconds;
/// A calendar date in the service time zone (a day count, no zone attached).
using local_date = date::sys_days;
/// The instant a count of seconds since the epoch names (how the store keeps instants).
inline instant instant_of(std::int64_t secs) { return instant{std::chrono::seconds{secs}}; }

enum class booking_status : std::uint8_t { booked, cancelled, leave };
enum class session_status { scheduled, cancelled };
enum class waitlist_status { waiting, promoted, withdrawn, skipped, cancelled };
/// What the page shows for a `waiting` entry: `expired` once the session's waitlist cut-off has passed.
enum class waitlist_state { waiting, expired };
/// What the page shows: `booked` splits into upcoming/completed by the session start.
enum class booking_state { upcoming, completed, cancelled, leave };
/// Who cancelled a booking (`bookings.cancelled_by`); `none` unless cancelled.
enum class canceller : std::uint8_t { none, member, admin, studio };
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
const char* to_string(session_status s);
/// "" for `none`.
const char* to_string(canceller c);
canceller parse_canceller(const std::string& s);
std::optional<session_status> parse_session_status(const std::string& s);
const char* to_string(waitlist_status s);
std::optional<waitlist_status> parse_waitlist_status(const std::string& s);
const char* to_string(waitlist_state s);
const char* to_string(error_code e);

struct user {
  id_type id = 0;
  std::string name;
  std::string email;
  int credits = 0;
  int leave_quota = 0;
  bool active = true;
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
  session_status status = session_status::scheduled;
  int waitlist_capacity = 10; // 0: no waitlist
};

inline bool operator==(const session& a, const session& b) {
  return a.id == b.id && a.location_id == b.location_id && a.title == b.title && a.coach == b.coach
         && a.starts_at == b.starts_at && a.ends_at == b.ends_at && a.capacity == b.capacity
         && a.status == b.status && a.waitlist_capacity == b.waitlist_capacity;
}
inline bool operator!=(const session& a, const session& b) { return !(a == b); }

/// A session as a booking or a waitlist entry refers to it: immutable once read, and shared between
/// the snapshots of every member who holds it (the store keeps one copy per session in the process),
/// so a cached member costs a pointer per booking, not a copy of the session's strings.
class session_ref {
public:
  session_ref() : p_(blank()) {}
  session_ref(session s) : p_(std::make_shared<const session>(std::move(s))) {} // NOLINT: a value is a ref
  explicit session_ref(std::shared_ptr<const session> p) : p_(p ? std::move(p) : blank()) {}

  const session& operator*() const { return *p_; }
  const session* operator->() const { return p_.get(); }
  const std::shared_ptr<const session>& shared() const { return p_; }
  /// A private copy to change (builders and tests); other holders keep what they had.
  session& edit() {
    auto own = std::make_shared<session>(*p_);
    p_ = own;
    return *own;
  }

private:
  static const std::shared_ptr<const session>& blank() {
    static const std::shared_ptr<const session> none = std::make_shared<const session>();
    return none;
  }
  std::shared_ptr<const session> p_;
};

struct session_view {
  session s;
  int seats_left = 0;      // 0 for a cancelled session
  int waitlist_length = 0; // `waiting` entries
};

/// A text most rows do not have, in one pointer (empty: none). Cached bookings carry one each.
class rare_text {
public:
  rare_text() = default;
  rare_text(std::string s) : p_(s.empty() ? nullptr : std::make_unique<std::string>(std::move(s))) {} // NOLINT
  rare_text(const char* s) : rare_text(std::string{s ? s : ""}) {} // NOLINT
  rare_text(const rare_text& o) : p_(o.p_ ? std::make_unique<std::string>(*o.p_) : nullptr) {}
  rare_text(rare_text&&) noexcept = default;
  rare_text& operator=(const rare_text& o) {
    if (this != &o)
      p_ = o.p_ ? std::make_unique<std::string>(*o.p_) : nullptr;
    return *this;
  }
  rare_text& operator=(rare_text&&) noexcept = default;

  bool empty() const { return !p_; }
  std::string_view view() const { return p_ ? std::string_view{*p_} : std::string_view{}; }
  friend bool operator==(const rare_text& a, std::string_view b) { return a.view() == b; }

private:
  std::unique_ptr<std::string> p_;
};

/// Kept per booking in every cached snapshot (64 bytes): small fields packed together, the session
/// shared; its id is the session's.
struct booking {
  id_type id = 0;
  id_type user_id = 0;
  booking_status status = booking_status::booked;
  canceller cancelled_by = canceller::none; // set once cancelled
  bool credit_refunded = false;
  bool via_waitlist = false;
  rare_text leave_reason;
  instant created_at{};
  instant updated_at{};
  session_ref sess; // the session it refers to, as of the load

  id_type session_id() const { return sess->id; }
};

/// A row of `waitlist_entries` with its session; `position` is computed when read (0 unless `waiting`).
struct waitlist_entry {
  id_type id = 0;
  id_type session_id = 0;
  id_type user_id = 0;
  waitlist_status status = waitlist_status::waiting;
  instant joined_at{};
  instant updated_at{};
  std::optional<id_type> booking_id;
  std::string skip_reason;
  int position = 0;
  session_ref sess;
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

/// All a user's page is built from: the user row, every booking ordered by starts_at, id, and the
/// `waiting` entries ordered by their session's starts_at, then id, with their positions.
struct user_snapshot {
  user u;
  std::vector<booking> bookings;
  std::vector<waitlist_entry> waiting;
};

struct token_info {
  id_type user_id = 0;
  role r = role::member;
};

} // namespace booking
