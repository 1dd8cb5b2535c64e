#include "model/schedule.hpp"

#include <algorithm>

namespace booking {

std::optional<std::chrono::minutes> parse_hhmm(std::string_view t) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (t.size() != 5 || t[2] != ':' || !digit(t[0]) || !digit(t[1]) || !digit(t[3]) || !digit(t[4]))
    return std::nullopt;
  int h = (t[0] - '0') * 10 + (t[1] - '0');
  int m = (t[3] - '0') * 10 + (t[4] - '0');
  if (h > 23 || m > 59)
    return std::nullopt;
  return std::chrono::minutes{h * 60 + m};
}

schedule_expansion expand_schedule(const weekly_schedule& s, const zone& z) {
  schedule_expansion out;
  auto refuse = [&out](const char* why) {
    out.slots.clear();
    out.problem = why;
    return out;
  };
  if (s.weekdays.empty())
    return refuse("weekdays must list at least one ISO weekday");
  bool wanted[8] = {};
  for (int d : s.weekdays) {
    if (d < 1 || d > 7)
      return refuse("weekdays are ISO numbers 1 (Monday) to 7 (Sunday)");
    if (wanted[d])
      return refuse("weekdays must not repeat");
    wanted[d] = true;
  }
  if (s.start_time < std::chrono::minutes{0} || s.start_time >= std::chrono::hours{24})
    return refuse("start_time must be HH:MM");
  if (s.duration < std::chrono::minutes{1} || s.duration > std::chrono::minutes{max_session_minutes})
    return refuse("duration_minutes must be 1 to 1440");
  if (s.from > s.to)
    return refuse("from must not be after to");
  if ((s.to - s.from).count() + 1 > max_schedule_days)
    return refuse("a schedule may span at most 366 days");
  for (auto d = s.from; d <= s.to; d += date::days{1}) {
    auto iso = date::weekday{d}.iso_encoding();
    if (!wanted[iso])
      continue;
    if (out.slots.size() == static_cast<std::size_t>(max_schedule_sessions))
      return refuse("a schedule may create at most 200 sessions");
    auto start = z.at_local(date::local_seconds{d.time_since_epoch()} + s.start_time);
    out.slots.push_back(schedule_slot{start, start + s.duration});
  }
  if (out.slots.empty())
    return refuse("no date in the range falls on the given weekdays");
  return out;
}

} // namespace booking
