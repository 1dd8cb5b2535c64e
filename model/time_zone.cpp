#include "model/time_zone.hpp"

#include <algorithm>
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

namespace {

char* put2(char* p, unsigned v) {
  p[0] = static_cast<char>('0' + v / 10 % 10);
  p[1] = static_cast<char>('0' + v % 10);
  return p + 2;
}

char* put_ymd(char* p, const date::year_month_day& ymd) {
  auto y = static_cast<unsigned>(std::clamp(static_cast<int>(ymd.year()), 0, 9999));
  p = put2(p, y / 100);
  p = put2(p, y % 100);
  *p++ = '-';
  p = put2(p, static_cast<unsigned>(ymd.month()));
  *p++ = '-';
  return put2(p, static_cast<unsigned>(ymd.day()));
}

} // namespace

std::size_t format_date_to(local_date d, char* out) {
  return static_cast<std::size_t>(put_ymd(out, date::year_month_day{d}) - out);
}

std::string format_date(local_date d) {
  char buf[16];
  return std::string(buf, format_date_to(d, buf));
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

std::size_t zone::format_to(instant t, char* out) const {
  // The offset in force, from the last transition period this thread looked up for this zone
  // (a page formats dozens of instants, nearly all in one period).
  struct period {
    const date::time_zone* tz = nullptr;
    date::sys_seconds begin, end;
    std::chrono::seconds offset{0};
  };
  thread_local period last;
  if (last.tz != tz_ || t < last.begin || t >= last.end) {
    auto info = tz_->get_info(t);
    last = period{tz_, info.begin, info.end, info.offset};
  }
  auto local = date::local_seconds{t.time_since_epoch() + last.offset};
  auto day = date::floor<date::days>(local);
  auto secs = static_cast<unsigned>((local - day).count());
  char* p = put_ymd(out, date::year_month_day{date::sys_days{day.time_since_epoch()}});
  *p++ = 'T';
  p = put2(p, secs / 3600);
  *p++ = ':';
  p = put2(p, secs / 60 % 60);
  *p++ = ':';
  p = put2(p, secs % 60);
  auto off = last.offset.count();
  *p++ = off < 0 ? '-' : '+';
  auto a = static_cast<unsigned>(off < 0 ? -off : off);
  p = put2(p, a / 3600);
  *p++ = ':';
  p = put2(p, a % 3600 / 60);
  return static_cast<std::size_t>(p - out);
}

std::string zone::format(instant t) const {
  char buf[32];
  return std::string(buf, format_to(t, buf));
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
