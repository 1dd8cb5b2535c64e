#include <doctest/doctest.h>

#include "fixtures.hpp"
#include "model/schedule.hpp"

using namespace booking;
using namespace std::chrono_literals;
using booking::test::utc;

namespace {

weekly_schedule weekly(std::vector<int> days, const char* hhmm, int minutes, const char* from, const char* to) {
  weekly_schedule s;
  s.weekdays = std::move(days);
  s.start_time = *parse_hhmm(hhmm);
  s.duration = std::chrono::minutes{minutes};
  s.from = *parse_date(from);
  s.to = *parse_date(to);
  return s;
}

/// The zone database's own answer for a local time that exists (unique or ambiguous → earliest).
instant tzdb(const char* zone_name, const char* day, const char* hhmm, date::choose c = date::choose::earliest) {
  auto local = date::local_seconds{parse_date(day)->time_since_epoch()} + *parse_hhmm(hhmm);
  return date::zoned_seconds{zone_name, local, c}.get_sys_time();
}

} // namespace

TEST_CASE("parse_hhmm accepts 00:00 to 23:59 only") {
  CHECK(parse_hhmm("00:00") == 0min);
  CHECK(parse_hhmm("23:59") == 23h + 59min);
  CHECK(parse_hhmm("07:05") == 7h + 5min);
  for (auto bad : {"24:00", "7:05", "07:5", "07:60", "0705", "07-05", "", "07:05 ", "+7:05", "ab:cd"})
    CHECK_MESSAGE(!parse_hhmm(bad), bad);
}

TEST_CASE("America/New_York: spring-forward gap read with the offset before it, wall clock kept") {
  zone ny{"America/New_York"};
  // Sundays 02:30; 2026-03-08 02:30 does not exist (02:00 EST -> 03:00 EDT).
  auto e = expand_schedule(weekly({7}, "02:30", 60, "2026-03-01", "2026-03-15"), ny);
  REQUIRE(e.problem.empty());
  REQUIRE(e.slots.size() == 3);
  CHECK(e.slots[0].starts_at == utc("2026-03-01T07:30:00Z"));
  CHECK(e.slots[0].starts_at == tzdb("America/New_York", "2026-03-01", "02:30"));
  CHECK(e.slots[1].starts_at == utc("2026-03-08T07:30:00Z")); // read as EST: 03:30 EDT
  CHECK(ny.format(e.slots[1].starts_at) == "2026-03-08T03:30:00-04:00");
  CHECK(e.slots[1].ends_at == utc("2026-03-08T08:30:00Z"));
  CHECK(e.slots[2].starts_at == utc("2026-03-15T06:30:00Z"));
  CHECK(e.slots[2].starts_at == tzdb("America/New_York", "2026-03-15", "02:30"));

  // Daily 18:00 across the change: same wall clock, one hour less of UTC offset.
  auto d = expand_schedule(weekly({1, 2, 3, 4, 5, 6, 7}, "18:00", 45, "2026-03-07", "2026-03-09"), ny);
  REQUIRE(d.slots.size() == 3);
  CHECK(d.slots[0].starts_at == utc("2026-03-07T23:00:00Z"));
  CHECK(d.slots[1].starts_at == utc("2026-03-08T22:00:00Z"));
  CHECK(d.slots[2].starts_at == utc("2026-03-09T22:00:00Z"));
  for (auto& s : d.slots) {
    CHECK(s.ends_at - s.starts_at == 45min);
    CHECK(ny.format(s.starts_at).substr(11, 5) == "18:00");
  }
}

TEST_CASE("America/New_York: fall-back ambiguity takes the earlier instant") {
  zone ny{"America/New_York"};
  auto e = expand_schedule(weekly({7}, "01:30", 60, "2026-10-25", "2026-11-08"), ny);
  REQUIRE(e.slots.size() == 3);
  CHECK(e.slots[0].starts_at == utc("2026-10-25T05:30:00Z"));
  CHECK(e.slots[1].starts_at == utc("2026-11-01T05:30:00Z")); // 01:30 EDT, not 01:30 EST
  CHECK(e.slots[1].starts_at == tzdb("America/New_York", "2026-11-01", "01:30", date::choose::earliest));
  CHECK(e.slots[1].starts_at < tzdb("America/New_York", "2026-11-01", "01:30", date::choose::latest));
  CHECK(ny.format(e.slots[1].starts_at) == "2026-11-01T01:30:00-04:00");
  // 60 minutes of real time: it ends at the second 01:30 (EST).
  CHECK(ny.format(e.slots[1].ends_at) == "2026-11-01T01:30:00-05:00");
  CHECK(e.slots[2].starts_at == utc("2026-11-08T06:30:00Z"));
}

TEST_CASE("Europe/Berlin across both changes") {
  zone berlin{"Europe/Berlin"};
  // 2026-03-29: 02:00 CET -> 03:00 CEST.
  auto spring = expand_schedule(weekly({7}, "02:30", 90, "2026-03-22", "2026-04-05"), berlin);
  REQUIRE(spring.slots.size() == 3);
  CHECK(spring.slots[0].starts_at == utc("2026-03-22T01:30:00Z"));
  CHECK(spring.slots[1].starts_at == utc("2026-03-29T01:30:00Z"));
  CHECK(berlin.format(spring.slots[1].starts_at) == "2026-03-29T03:30:00+02:00");
  CHECK(spring.slots[2].starts_at == utc("2026-04-05T00:30:00Z"));
  CHECK(spring.slots[2].starts_at == tzdb("Europe/Berlin", "2026-04-05", "02:30"));
  // 2026-10-25: 03:00 CEST -> 02:00 CET; 02:30 happens twice.
  auto fall = expand_schedule(weekly({7}, "02:30", 60, "2026-10-18", "2026-11-01"), berlin);
  REQUIRE(fall.slots.size() == 3);
  CHECK(fall.slots[0].starts_at == utc("2026-10-18T00:30:00Z"));
  CHECK(fall.slots[1].starts_at == utc("2026-10-25T00:30:00Z"));
  CHECK(berlin.format(fall.slots[1].starts_at) == "2026-10-25T02:30:00+02:00");
  CHECK(fall.slots[2].starts_at == utc("2026-11-01T01:30:00Z"));
  // Mondays and Thursdays 19:00 through the autumn change keep 19:00 local.
  auto evening = expand_schedule(weekly({1, 4}, "19:00", 60, "2026-10-19", "2026-11-01"), berlin);
  REQUIRE(evening.slots.size() == 4);
  for (auto& s : evening.slots) {
    auto text = berlin.format(s.starts_at);
    CHECK(text.substr(11, 5) == "19:00");
    CHECK(s.starts_at == tzdb("Europe/Berlin", text.substr(0, 10).c_str(), "19:00"));
  }
  CHECK(berlin.format(evening.slots[0].starts_at) == "2026-10-19T19:00:00+02:00");
  CHECK(berlin.format(evening.slots[3].starts_at) == "2026-10-29T19:00:00+01:00");
}

TEST_CASE("schedule limits and refusals") {
  zone tpe{"Asia/Taipei"};
  // 366 days inclusive, one weekday: 53 sessions, accepted.
  auto year = expand_schedule(weekly({4}, "07:00", 60, "2026-01-01", "2027-01-01"), tpe); // Thursdays
  CHECK(year.problem.empty());
  CHECK(year.slots.size() == 53);
  CHECK(!expand_schedule(weekly({4}, "07:00", 60, "2026-01-01", "2027-01-02"), tpe).problem.empty()); // 367 days
  // 200 sessions accepted, 201 refused.
  auto d200 = expand_schedule(weekly({1, 2, 3, 4, 5, 6, 7}, "07:00", 60, "2026-01-01", "2026-07-19"), tpe);
  CHECK(d200.problem.empty());
  CHECK(d200.slots.size() == 200);
  auto d201 = expand_schedule(weekly({1, 2, 3, 4, 5, 6, 7}, "07:00", 60, "2026-01-01", "2026-07-20"), tpe);
  CHECK(!d201.problem.empty());
  CHECK(d201.slots.empty());
  CHECK(!expand_schedule(weekly({}, "07:00", 60, "2026-01-01", "2026-01-31"), tpe).problem.empty());
  CHECK(!expand_schedule(weekly({0}, "07:00", 60, "2026-01-01", "2026-01-31"), tpe).problem.empty());
  CHECK(!expand_schedule(weekly({8}, "07:00", 60, "2026-01-01", "2026-01-31"), tpe).problem.empty());
  CHECK(!expand_schedule(weekly({2, 2}, "07:00", 60, "2026-01-01", "2026-01-31"), tpe).problem.empty());
  CHECK(!expand_schedule(weekly({2}, "07:00", 0, "2026-01-01", "2026-01-31"), tpe).problem.empty());
  CHECK(!expand_schedule(weekly({2}, "07:00", 1441, "2026-01-01", "2026-01-31"), tpe).problem.empty());
  CHECK(!expand_schedule(weekly({2}, "07:00", 60, "2026-02-01", "2026-01-31"), tpe).problem.empty());
  // A range with no matching weekday creates nothing: refused rather than an empty 201.
  CHECK(!expand_schedule(weekly({1}, "07:00", 60, "2026-01-06", "2026-01-08"), tpe).problem.empty());
  // Taipei has no DST: 07:00 local is 23:00Z the day before.
  auto one = expand_schedule(weekly({4}, "07:00", 60, "2026-01-01", "2026-01-01"), tpe);
  REQUIRE(one.slots.size() == 1);
  CHECK(one.slots[0].starts_at == utc("2025-12-31T23:00:00Z"));
}
