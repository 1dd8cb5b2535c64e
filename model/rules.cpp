#include "model/rules.hpp"

namespace booking {

error_code check_book(const book_facts& f, instant now) {
  if (!f.sess)
    return error_code::not_found;
  if (f.sess->starts_at <= now || f.sess->status == session_status::cancelled)
    return error_code::session_closed;
  if (f.already_booked)
    return error_code::already_booked;
  if (f.booked_count >= f.sess->capacity)
    return error_code::session_full;
  if (f.credits < 1)
    return error_code::insufficient_credits;
  if (!f.active)
    return error_code::forbidden; // as for a waitlist join: a deactivated member books nothing
  return error_code::none;
}

cancel_decision check_cancel(const booking_facts& f, instant now, std::chrono::seconds cancel_window) {
  if (!f.exists_and_owned)
    return {error_code::not_found, false};
  if (f.starts_at <= now)
    return {error_code::session_closed, false};
  if (f.status != booking_status::booked)
    return {error_code::not_cancellable, false};
  return {error_code::none, f.starts_at - now >= cancel_window};
}

error_code check_leave(const booking_facts& f, instant now) {
  if (!f.exists_and_owned)
    return error_code::not_found;
  if (f.starts_at <= now)
    return error_code::session_closed;
  if (f.status != booking_status::booked)
    return error_code::not_cancellable;
  if (f.leave_quota < 1)
    return error_code::insufficient_leave_quota;
  return error_code::none;
}

error_code check_join(const join_facts& f, instant now, std::chrono::seconds cutoff) {
  if (!f.sess)
    return error_code::not_found;
  if (f.sess->status == session_status::cancelled || now >= waitlist_cutoff_of(*f.sess, cutoff)
      || f.sess->starts_at <= now)
    return error_code::session_closed;
  if (f.already_booked)
    return error_code::already_booked;
  if (f.already_waitlisted)
    return error_code::already_waitlisted;
  if (f.booked_count < f.sess->capacity)
    return error_code::session_has_space;
  if (f.waiting_count >= f.sess->waitlist_capacity)
    return error_code::waitlist_full;
  if (f.credits < 1)
    return error_code::insufficient_credits;
  if (!f.active)
    return error_code::forbidden;
  return error_code::none;
}

error_code check_withdraw(const withdraw_facts& f) {
  if (!f.exists_and_owned)
    return error_code::not_found;
  if (f.status != waitlist_status::waiting)
    return error_code::not_withdrawable;
  return error_code::none;
}

waitlist_state waitlist_state_of(const session& s, instant now, std::chrono::seconds cutoff) {
  return now < waitlist_cutoff_of(s, cutoff) && s.status == session_status::scheduled && s.starts_at > now
           ? waitlist_state::waiting
           : waitlist_state::expired;
}

bool valid_reason(std::string_view s, size_t max_code_points) {
  size_t count = 0;
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len;
    unsigned cp;
    if (c < 0x80) {
      len = 1;
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size())
      return false;
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80)
        return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF
        || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
    if (++count > max_code_points)
      return false;
  }
  return true;
}

booking_state state_of(booking_status s, instant starts_at, instant now) {
  switch (s) {
    case booking_status::cancelled:
      return booking_state::cancelled;
    case booking_status::leave:
      return booking_state::leave;
    case booking_status::booked:
    default:
      return starts_at > now ? booking_state::upcoming : booking_state::completed;
  }
}

stats compute_stats(const user_snapshot& snap, instant now) {
  stats st;
  st.credits_remaining = snap.u.credits;
  st.leave_quota_remaining = snap.u.leave_quota;
  for (const auto& b : snap.bookings) {
    switch (state_of(b.status, b.sess->starts_at, now)) {
      case booking_state::upcoming: ++st.upcoming; break;
      case booking_state::completed: ++st.completed; break;
      case booking_state::cancelled: ++st.cancelled; break;
      case booking_state::leave: ++st.leave; break;
    }
  }
  return st;
}

} // namespace booking
