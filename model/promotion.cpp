#include "model/promotion.hpp"

#include "model/ledger.hpp"

namespace booking {

namespace {

struct promotion_session {
  instant starts_at{};
  int capacity = 0;
  bool scheduled = false;
};

std::optional<promotion_session> read_promotion_session(sql::connection& c, id_type id) {
  sql::statement st{c, "SELECT starts_at, capacity, status = 'scheduled' FROM sessions WHERE id = ?1"};
  st.bind(1, id);
  if (!st.step())
    return std::nullopt;
  return promotion_session{instant_of(st.int64(0)), st.int32(1), st.int64(2) != 0};
}

} // namespace

promotion_outcome promote_waitlist(sql::connection& c, id_type session_id, instant now,
                                   std::chrono::seconds cutoff) {
  promotion_outcome out;
  auto s = read_promotion_session(c, session_id);
  if (!s || !s->scheduled || now >= s->starts_at - cutoff)
    return out; // after the cut-off, waiting entries stay (shown as expired) and are never promoted
  auto secs = now.time_since_epoch().count();
  sql::statement booked{c, "SELECT count(*) FROM bookings WHERE session_id = ?1 AND status = 'booked'"};
  sql::statement head{c, "SELECT w.id, w.user_id, u.active, u.credits, "
                         "EXISTS (SELECT 1 FROM bookings b WHERE b.user_id = w.user_id AND b.session_id = "
                         "w.session_id AND b.status = 'booked') "
                         "FROM waitlist_entries w JOIN users u ON u.id = w.user_id "
                         "WHERE w.session_id = ?1 AND w.status = 'waiting' ORDER BY w.joined_at, w.id LIMIT 1"};
  sql::statement insert_booking{c, "INSERT INTO bookings (user_id, session_id, status, credit_refunded, "
                                   "created_at, updated_at, via_waitlist) VALUES (?1, ?2, 'booked', 0, ?3, ?3, 1)"};
  sql::statement take_credit{c, "UPDATE users SET credits = credits - 1 WHERE id = ?1 AND credits >= 1"};
  sql::statement set_promoted{c, "UPDATE waitlist_entries SET status = 'promoted', booking_id = ?2, updated_at = ?3 "
                                 "WHERE id = ?1 AND status = 'waiting'"};
  sql::statement set_skipped{c, "UPDATE waitlist_entries SET status = 'skipped', skip_reason = ?2, updated_at = ?3 "
                                "WHERE id = ?1 AND status = 'waiting'"};
  for (;;) {
    int taken;
    {
      sql::scoped_reset r{booked};
      booked.bind(1, session_id);
      taken = booked.step() ? booked.int32(0) : 0;
    }
    if (taken >= s->capacity)
      break;
    id_type entry, user;
    bool active, has_credit, holds_booked;
    {
      sql::scoped_reset r{head};
      head.bind(1, session_id);
      if (!head.step())
        break;
      entry = head.int64(0);
      user = head.int64(1);
      active = head.int64(2) != 0;
      has_credit = head.int64(3) >= 1;
      holds_booked = head.int64(4) != 0;
    }
    const char* skip = !active ? "inactive" : !has_credit ? "insufficient_credits"
                                            : holds_booked ? "already_booked" : nullptr;
    if (skip) {
      set_skipped.bind(1, entry).bind(2, std::string_view{skip}).bind(3, secs).run();
      if (c.changes() != 1)
        throw sql::error("waitlist entry changed under promotion", 1);
      ++out.skipped;
      continue;
    }
    insert_booking.bind(1, user).bind(2, session_id).bind(3, secs).run();
    auto booking_id = c.last_insert_id();
    take_credit.bind(1, user).run();
    if (c.changes() != 1)
      throw sql::error("credit invariant violated in promotion", 1);
    record_credit_change(c, user, -1, "promotion", booking_id, std::nullopt, now);
    set_promoted.bind(1, entry).bind(2, booking_id).bind(3, secs).run();
    if (c.changes() != 1)
      throw sql::error("waitlist entry changed under promotion", 1);
    out.promoted_users.push_back(user);
    ++out.promoted;
  }
  return out;
}

std::vector<id_type> waiting_users(sql::connection& c, id_type session_id) {
  sql::statement st{c, "SELECT user_id FROM waitlist_entries WHERE session_id = ?1 AND status = 'waiting' "
                       "ORDER BY joined_at, id"};
  st.bind(1, session_id);
  std::vector<id_type> out;
  while (st.step())
    out.push_back(st.int64(0));
  return out;
}

} // namespace booking
