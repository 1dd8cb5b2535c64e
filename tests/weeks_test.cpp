#include <doctest/doctest.h>

#include "fixtures.hpp"
#include "model/weeks.hpp"

using namespace booking;
using booking::test::utc;

namespace {

booking::booking at(id_type id, instant starts) {
  booking::booking b;
  b.id = id;
  b.sess.edit().starts_at = starts;
  return b;
}

date_range range(const char* f, const char* t) { return date_range{*parse_date(f), *parse_date(t)}; }

} // namespace

TEST_CASE("every overlapping week appears, even empty ones") {
  zone z{"Asia/Taipei"};
  std::vector<booking::booking> none;
  auto w = group_weeks(range("2026-11-25", "2026-12-20"), none, z);
  REQUIRE(w.size() == 4);
  CHECK(format_date(w[0].week_start) == "2026-11-23");
  CHECK(format_date(w[3].week_start) == "2026-12-14");
  for (auto& x : w)
    CHECK(x.bookings.empty());
  // A single day is one week; a Sunday-to-Monday range is two.
  CHECK(group_weeks(range("2026-11-25", "2026-11-25"), none, z).size() == 1);
  CHECK(group_weeks(range("2026-11-29", "2026-11-30"), none, z).size() == 2);
}

TEST_CASE("bookings land in the week of their local start date, in order") {
  zone z{"Asia/Taipei"};
  std::vector<booking::booking> bs{
    at(1, utc("2026-11-22T15:59:59Z")), // Sunday 23:59:59 local: before the range
    at(2, utc("2026-11-22T16:00:00Z")), // Monday 00:00 local
    at(3, utc("2026-11-29T15:00:00Z")), // Sunday 23:00 local: still week 1
    at(4, utc("2026-11-29T16:00:00Z")), // Monday: week 2
    at(5, utc("2026-12-06T16:00:00Z")), // Monday 12-07: after `to`
  };
  auto w = group_weeks(range("2026-11-23", "2026-12-06"), bs, z);
  REQUIRE(w.size() == 2);
  REQUIRE(w[0].bookings.size() == 2);
  CHECK(w[0].bookings[0]->id == 2);
  CHECK(w[0].bookings[1]->id == 3);
  REQUIRE(w[1].bookings.size() == 1);
  CHECK(w[1].bookings[0]->id == 4);
}

TEST_CASE("a range starting mid-week lists only bookings from `from` on") {
  zone z{"Asia/Taipei"};
  std::vector<booking::booking> bs{at(1, utc("2026-11-23T02:00:00Z")), at(2, utc("2026-11-26T02:00:00Z"))};
  auto w = group_weeks(range("2026-11-25", "2026-11-30"), bs, z);
  REQUIRE(w.size() == 2);
  REQUIRE(w[0].bookings.size() == 1);
  CHECK(w[0].bookings[0]->id == 2);
}

TEST_CASE("weeks across a DST change in Europe/Berlin") {
  zone z{"Europe/Berlin"};
  std::vector<booking::booking> bs{
    at(1, utc("2026-03-29T22:30:00Z")), // Monday 2026-03-30 00:30 CEST
    at(2, utc("2026-03-29T21:30:00Z")), // Sunday 23:30 CEST: week of 03-23
    at(3, utc("2026-10-25T22:59:00Z")), // Sunday 23:59 CET after fall back
    at(4, utc("2026-10-25T23:00:00Z")), // Monday 10-26 00:00 CET
  };
  std::sort(bs.begin(), bs.end(), [](auto& a, auto& b) { return a.sess->starts_at < b.sess->starts_at; });
  auto spring = group_weeks(range("2026-03-23", "2026-04-05"), bs, z);
  REQUIRE(spring.size() == 2);
  REQUIRE(spring[0].bookings.size() == 1);
  CHECK(spring[0].bookings[0]->id == 2);
  REQUIRE(spring[1].bookings.size() == 1);
  CHECK(spring[1].bookings[0]->id == 1);
  auto fall = group_weeks(range("2026-10-19", "2026-11-01"), bs, z);
  REQUIRE(fall.size() == 2);
  REQUIRE(fall[0].bookings.size() == 1);
  CHECK(fall[0].bookings[0]->id == 3);
  auto next = group_weeks(range("2026-10-26", "2026-10-26"), bs, z);
  REQUIRE(next[0].bookings.size() == 1);
  CHECK(next[0].bookings[0]->id == 4);
}

TEST_CASE("year boundary and 53-week years") {
  zone z{"Asia/Taipei"};
  std::vector<booking::booking> none;
  // 2026-12-28 (Mon) .. 2027-01-03 (Sun) is ISO week 2026-W53.
  auto w = group_weeks(range("2026-12-30", "2027-01-05"), none, z);
  REQUIRE(w.size() == 2);
  CHECK(format_date(w[0].week_start) == "2026-12-28");
  CHECK(format_date(w[1].week_start) == "2027-01-04");
  // 2020 also had 53 ISO weeks; 2021-01-01 is in the week of 2020-12-28.
  auto v = group_weeks(range("2021-01-01", "2021-01-01"), none, z);
  CHECK(format_date(v[0].week_start) == "2020-12-28");
  // The largest range (92 days) spans at most 14 weeks (here one partial week and 13 full ones).
  auto big = group_weeks(range("2026-01-04", "2026-04-05"), none, z);
  CHECK(big.size() == 14);
}

TEST_CASE("same start orders by id as given") {
  zone z{"Asia/Taipei"};
  std::vector<booking::booking> bs{at(7, utc("2026-11-24T02:00:00Z")), at(9, utc("2026-11-24T02:00:00Z"))};
  auto w = group_weeks(range("2026-11-23", "2026-11-29"), bs, z);
  REQUIRE(w[0].bookings.size() == 2);
  CHECK(w[0].bookings[0]->id == 7);
  CHECK(w[0].bookings[1]->id == 9);
}
