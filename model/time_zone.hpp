// Dates and instants in the service time zone (IANA name, DST-correct, system tz database).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <date/tz.h>

#include "model/types.hpp"

namespace booking {

/// Strict `YYYY-MM-DD`: exactly ten characters, a real calendar date, year 1..9999.
std::optional<local_date> parse_date(std::string_view text);
std::string format_date(local_date d);
/// `YYYY-MM-DD` into `out` (10 bytes, years 0..9999); returns the length.
std::size_t format_date_to(local_date d, char* out);
/// Monday of the ISO week that holds `d`.
local_date monday_of(local_date d);

class zone {
public:
  /// Throws std::runtime_error when the name is not in the tz database.
  explicit zone(const std::string& iana_name);

  const std::string& name() const { return name_; }
  /// The local calendar date of an instant.
  local_date date_of(instant t) const;
  /// The first instant of a local date (handles days that do not start at 00:00).
  instant start_of(local_date d) const;
  /// The instant of a local wall-clock time. A time skipped by a spring-forward gap is read with the
  /// offset in force before the gap (RFC 5545 §3.3.5: 02:30 becomes 03:30); a time that happens twice
  /// (fall back) is the earlier instant.
  instant at_local(date::local_seconds wall) const;
  /// RFC 3339 with the local offset, e.g. `2026-11-25T18:30:00+08:00`.
  std::string format(instant t) const;
  /// The same into `out` (at least 32 bytes); returns the length. No printf, and the zone's offset
  /// rule is looked up once per thread and transition period, not per call.
  std::size_t format_to(instant t, char* out) const;
  /// Today in this zone.
  local_date today(instant now) const { return date_of(now); }

private:
  std::string name_;
  const date::time_zone* tz_;
};

/// Result of turning the `from`/`to` query parameters into a range (SPEC §4).
struct range_result {
  std::optional<date_range> range;
  std::string problem; // set when range is empty
};

/// `from`/`to` as given (nullopt when absent); `today` in the service zone.
range_result resolve_range(const std::optional<std::string>& from, const std::optional<std::string>& to,
                           local_date today, int max_days = 92);

instant now_seconds();

} // namespace booking
