// Weekly recurrences of studio sessions (SPEC §4 "Studio administration"): ISO weekdays, a local
// start time and a duration over a range of local dates, in the service time zone. Pure functions.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/time_zone.hpp"
#include "model/types.hpp"

namespace booking {

struct weekly_schedule {
  std::vector<int> weekdays;          // ISO numbers, 1 = Monday ... 7 = Sunday
  std::chrono::minutes start_time{0}; // local wall-clock time after midnight
  std::chrono::minutes duration{60};
  local_date from{};
  local_date to{}; // inclusive
};

struct schedule_slot {
  instant starts_at{};
  instant ends_at{};
};

struct schedule_expansion {
  std::vector<schedule_slot> slots;
  std::string problem; // set (and slots empty) when the schedule is refused
};

constexpr int max_schedule_days = 366;
constexpr int max_schedule_sessions = 200;
constexpr int max_session_minutes = 24 * 60;

/// Strict local `HH:MM` (00:00 .. 23:59).
std::optional<std::chrono::minutes> parse_hhmm(std::string_view text);

/// One slot per local date in [from, to] whose ISO weekday is listed, starting at `start_time` on
/// that date's wall clock (kept across DST changes; see `zone::at_local` for gaps and overlaps) and
/// lasting `duration` of real time. Refused: empty, out-of-range or repeated weekdays, a duration
/// outside 1..1440 minutes, from after to, more than 366 days, more than 200 sessions.
schedule_expansion expand_schedule(const weekly_schedule& s, const zone& z);

} // namespace booking
