#include <doctest/doctest.h>

#include "fixtures.hpp"
#include "model/time_zone.hpp"

using namespace booking;
using booking::test::utc;

TEST_CASE("parse_date accepts real dates only") {
  CHECK(parse_date("2026-11-25"));
  CHECK(format_date(*parse_date("2026-11-25")) == "2026-11-25");
  CHECK(parse_date("2024-02-29"));   // leap year
  CHECK(!parse_date("2025-02-29"));  // not a leap year
  CHECK(!parse_date("1900-02-29"));  // century, not leap
  CHECK(parse_date("2000-02-29"));   // 400-year leap
  CHECK(!parse_date("2026-04-31"));
  CHECK(!parse_date("2026-13-01"));
  CHECK(!parse_date("2026-00-10"));
  CHECK(!parse_date("2026-01-00"));
  CHECK(!parse_date("0000-01-01"));
  CHECK(!parse_date("2026-1-01"));
  CHECK(!parse_date("2026-01-1"));
  CHECK(!parse_date("2026/01/01"));
  CHECK(!parse_date("2026-01-01T"));
  CHECK(!parse_date(" 2026-01-01"));
  CHECK(!parse_date("+026-01-01"));
  CHECK(!parse_date("2026-0a-01"));
  CHECK(!parse_date(""));
  CHECK(!parse_date(std::string("2026-01-0\0", 10)));
}

TEST_CASE("monday_of finds the ISO week start") {
  CHECK(format_date(monday_of(*parse_date("2026-11-25"))) == "2026-11-23"); // Wednesday
  CHECK(format_date(monday_of(*parse_date("2026-11-23"))) == "2026-11-23"); // Monday itself
  CHECK(format_date(monday_of(*parse_date("2026-11-29"))) == "2026-11-23"); // Sunday
  CHECK(format_date(monday_of(*parse_date("2027-01-01"))) == "2026-12-28"); // across the year
}

TEST_CASE("instants format with the local offset") {
  zone taipei{"Asia/Taipei"};
  CHECK(taipei.format(utc("2026-11-25T10:30:00Z")) == "2026-11-25T18:30:00+08:00");
  CHECK(format_date(taipei.date_of(utc("2026-11-25T16:00:00Z"))) == "2026-11-26");
  CHECK(taipei.start_of(*parse_date("2026-11-26")) == utc("2026-11-25T16:00:00Z"));

  zone berlin{"Europe/Berlin"};
  CHECK(berlin.format(utc("2026-01-15T12:00:00Z")) == "2026-01-15T13:00:00+01:00");
  CHECK(berlin.format(utc("2026-07-15T12:00:00Z")) == "2026-07-15T14:00:00+02:00");
  // 2026-03-29: clocks go forward at 02:00 local; the day still starts at 00:00 +01:00.
  CHECK(berlin.start_of(*parse_date("2026-03-29")) == utc("2026-03-28T23:00:00Z"));
  CHECK(berlin.start_of(*parse_date("2026-03-30")) == utc("2026-03-29T22:00:00Z"));
  CHECK(berlin.format(utc("2026-03-29T01:30:00Z")) == "2026-03-29T03:30:00+02:00");

  zone ny{"America/New_York"};
  CHECK(ny.format(utc("2026-11-25T10:30:00Z")) == "2026-11-25T05:30:00-05:00");
  zone kolkata{"Asia/Kolkata"};
  CHECK(kolkata.format(utc("2026-11-25T10:00:00Z")) == "2026-11-25T15:30:00+05:30");
  // Santiago skips midnight at its spring transition: the day starts at 01:00.
  zone santiago{"America/Santiago"};
  auto d = *parse_date("2026-09-06");
  CHECK(format_date(santiago.date_of(santiago.start_of(d))) == "2026-09-06");
}

TEST_CASE("unknown zones are refused") {
  CHECK_THROWS(zone{"Mars/Olympus_Mons"});
  CHECK_THROWS(zone{""});
}

TEST_CASE("resolve_range follows SPEC §4") {
  auto today = *parse_date("2026-11-25");
  auto def = resolve_range(std::nullopt, std::nullopt, today);
  REQUIRE(def.range);
  CHECK(format_date(def.range->from) == "2026-11-23");
  CHECK(format_date(def.range->to) == "2026-12-20");

  CHECK(!resolve_range(std::string("2026-11-01"), std::nullopt, today).range);
  CHECK(!resolve_range(std::nullopt, std::string("2026-11-01"), today).range);
  CHECK(!resolve_range(std::string("2026-11-02"), std::string("2026-11-01"), today).range);
  CHECK(resolve_range(std::string("2026-11-01"), std::string("2026-11-01"), today).range);
  // 92 days inclusive is the limit: to - from = 91 passes, 92 fails.
  CHECK(resolve_range(std::string("2026-01-01"), std::string("2026-04-02"), today).range);
  CHECK(!resolve_range(std::string("2026-01-01"), std::string("2026-04-03"), today).range);
  CHECK(!resolve_range(std::string("2026-02-30"), std::string("2026-03-01"), today).range);
  CHECK(!resolve_range(std::string("yesterday"), std::string("2026-03-01"), today).range);
  CHECK(!resolve_range(std::string(""), std::string(""), today).range);
}
