#include "model/weeks.hpp"

namespace booking {

std::vector<week> group_weeks(const date_range& r, const std::vector<booking>& bookings, const zone& z) {
  auto first = monday_of(r.from);
  auto last = monday_of(r.to);
  auto count = static_cast<size_t>((last - first).count() / 7 + 1);
  std::vector<week> weeks(count);
  for (size_t i = 0; i < count; ++i)
    weeks[i].week_start = first + date::days{static_cast<int>(7 * i)};
  // Skip bookings before the range cheaply: the local day starts are monotonic in instants.
  auto lo = z.start_of(r.from);
  auto hi = z.start_of(r.to + date::days{1});
  for (const auto& b : bookings) {
    if (b.sess->starts_at < lo || b.sess->starts_at >= hi)
      continue;
    auto d = z.date_of(b.sess->starts_at);
    auto idx = static_cast<size_t>((monday_of(d) - first).count() / 7);
    weeks[idx].bookings.push_back(&b);
  }
  return weeks;
}

} // namespace booking
