#include "model/page.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "model/json.hpp"
#include "model/rules.hpp"
#include "model/weeks.hpp"

namespace booking {

rendered_page render_page(const user_snapshot& snap, const date_range& r, const std::vector<location>& locs,
                          const zone& z, lang l, instant now, std::chrono::seconds waitlist_cutoff) {
  using nlohmann::json;
  rendered_page out;
  out.valid_until = instant::max();
  for (const auto& b : snap.bookings) // stats count every booking: the first future start ends validity
    if (b.status == booking_status::booked && b.sess.starts_at > now && b.sess.starts_at < out.valid_until)
      out.valid_until = b.sess.starts_at;
  for (const auto& e : snap.waiting) {
    auto expires = std::min(e.sess.starts_at - waitlist_cutoff, e.sess.starts_at);
    if (expires > now && expires < out.valid_until)
      out.valid_until = expires;
  }
  auto waitlist = json::array(); // already in page order: session starts_at, then id
  for (const auto& e : snap.waiting)
    waitlist.push_back(entry_json(e, z, l, now, waitlist_cutoff));
  auto weeks = group_weeks(r, snap.bookings, z);
  auto jweeks = json::array();
  for (const auto& w : weeks) {
    auto jb = json::array();
    for (const auto* b : w.bookings)
      jb.push_back(booking_json(*b, z, l, now));
    jweeks.push_back(json{{"week_start", format_date(w.week_start)}, {"bookings", std::move(jb)}});
  }
  json page{{"user", {{"id", snap.u.id}, {"name", snap.u.name}}},
            {"range", {{"from", format_date(r.from)}, {"to", format_date(r.to)}}},
            {"stats", stats_json(compute_stats(snap, now))},
            {"weeks", std::move(jweeks)},
            {"waitlist", std::move(waitlist)},
            {"locations", locations_json(locs)}};
  out.body = page.dump();
  return out;
}

} // namespace booking
