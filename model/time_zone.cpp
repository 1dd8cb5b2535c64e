#include "model/time_zone.hpp"

#include <cstdio>
#include <stdexcept>

namespace booking {

namespace {

bool digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9')
      return false;
  return true;
}

int to_int(std::string_view s) {
  int v = 0;
  for (char c : s)
    v = v * 10 + (c - '0');
  return v;
}

} // namespace

std::optional<local_date> parse_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-')
    return std::nullopt;
  auto ys = text.substr(0, 4), ms = text.substr(5, 2), ds = text.substr(8, 2);
  if (!digits(ys) || !digits(ms) || !digits(ds))
    return std::nullopt;
  date::year_month_day ymd{date::year{to_int(ys)}, date::month{static_cast<unsigned>(to_int(ms))},
                           date::day{static_cast<unsigned>(to_int(ds))}};
  if (!ymd.ok() || ymd.year() < date::year{1})
    return std::nullopt;
  return local_date{ymd};
}

std::string format_date(local_date d) {
  date::year_month_day ymd{d};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

local_date monday_of(local_date d) {
  date::weekday wd{d};
  return d - (wd - date::Monday);
}

zone::zone(const std::string& iana_name) : name_(iana_name), tz_(nullptr) {
  try {
    tz_ = date::locate_zone(iana_name);
  } catch (const std::exception&) {
    throw std::runtime_error("unknown time zone: " + iana_name);
  }
}

local_date zone::date_of(instant t) const {
  auto local = tz_->to_local(t);
  return local_date{date::floor<date::days>(local).time_since_epoch()};
}

instant zone::start_of(local_date d) const {
  date::local_seconds midnight{d.time_since_epoch()};
  auto info = tz_->get_info(midnight);
  switch (info.result) {
    case date::local_info::unique:
      return instant{midnight.time_since_epoch() - info.first.offset};
    case date::local_info::ambiguous: // midnight happens twice: the earlier one starts the day
      return instant{midnight.time_since_epoch() - info.first.offset};
    case date::local_info::nonexistent: // midnight skipped: the day starts at the transition
    default:
      return info.second.begin;
  }
}

instant zone::at_local(date::local_seconds wall) const {
  auto info = tz_->get_info(wall);
  // unique: the one offset; ambiguous: `first` is the earlier period (the larger offset, so the
  // earlier instant); nonexistent: `first` is the period before the gap.
  return instant{wall.time_since_epoch() - info.first.offset};
}

std::string zone::format(instant t) const {
  auto info = tz_->get_info(t);
  auto local = date::local_seconds{t.time_since_epoch() + info.offset};
  auto day = date::floor<date::days>(local);
  date::year_month_day ymd{day};
  date::hh_mm_ss<std::chrono::seconds> tod{local - day};
  auto off = info.offset.count();
  char sign = off < 0 ? '-' : '+';
  if (off < 0)
    off = -off;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d%c%02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(tod.hours().count()), static_cast<int>(tod.minutes().count()),
                static_cast<int>(tod.seconds().count()), sign, static_cast<int>(off / 3600),
                static_cast<int>((off % 3600) / 60));
  return buf;
}

range_result resolve_range(const std::optional<std::string>& from, const std::optional<std::string>& to,
                           local_date today, int max_days) {
  range_result r;
  if (!from && !to) {
    auto start = monday_of(today);
    r.range = date_range{start, start + date::days{27}};
    return r;
  }
  if (!from || !to) {
    r.problem = "from and to must be given together";
    return r;
  }
  auto f = parse_date(*from);
  auto t = parse_date(*to);
  if (!f || !t) {
    r.problem = "dates must be real calendar dates written YYYY-MM-DD";
    return r;
  }
  if (*f > *t) {
    r.problem = "from must not be after to";
    return r;
  }
  if ((*t - *f).count() > max_days - 1) {
    r.problem = "the range may span at most " + std::to_string(max_days) + " days";
    return r;
  }
  r.range = date_range{*f, *t};
  return r;
}

instant now_seconds() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

} // namespace booking
