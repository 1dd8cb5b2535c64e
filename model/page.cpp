#include "model/page.hpp"

#include <algorithm>

#include "model/json.hpp"
#include "model/rules.hpp"
#include "model/weeks.hpp"

namespace booking {

rendered_page render_page(const user_snapshot& snap, const date_range& r, const std::vector<location>& locs,
                          const zone& z, lang l, instant now, std::chrono::seconds waitlist_cutoff) {
  rendered_page out;
  out.valid_until = instant::max();
  for (const auto& b : snap.bookings) // stats count every booking: the first future start ends validity
    if (b.status == booking_status::booked && b.sess->starts_at > now && b.sess->starts_at < out.valid_until)
      out.valid_until = b.sess->starts_at;
  for (const auto& e : snap.waiting) {
    auto expires = std::min(e.sess->starts_at - waitlist_cutoff, e.sess->starts_at);
    if (expires > now && expires < out.valid_until)
      out.valid_until = expires;
  }
  auto weeks = group_weeks(r, snap.bookings, z);
  // About 600 bytes per listed booking and 300 for the rest: one allocation for most pages.
  std::size_t listed = snap.waiting.size();
  for (const auto& w : weeks)
    listed += w.bookings.size();
  out.body.reserve(1024 + 160 * locs.size() + 620 * listed);
  json_writer w{out.body};
  // Keys in sorted order (see model/json.hpp): locations, range, stats, user, waitlist, weeks.
  w.begin_object().key("locations");
  write_locations(w, locs);
  w.key("range").begin_object().key("from").date(r.from).key("to").date(r.to).end_object();
  w.key("stats");
  write_stats(w, compute_stats(snap, now));
  w.key("user").begin_object().key("id").value(snap.u.id).key("name").value(snap.u.name).end_object();
  w.key("waitlist").begin_array(); // already in page order: session starts_at, then id
  for (const auto& e : snap.waiting)
    write_entry(w, e, z, l, now, waitlist_cutoff);
  w.end_array().key("weeks").begin_array();
  for (const auto& wk : weeks) {
    w.begin_object().key("bookings").begin_array();
    for (const auto* b : wk.bookings)
      write_booking(w, *b, z, l, now);
    w.end_array().key("week_start").date(wk.week_start).end_object();
  }
  w.end_array().end_object();
  out.body.shrink_to_fit(); // cached for hours: no slack left from the reservation above
  return out;
}

} // namespace booking
