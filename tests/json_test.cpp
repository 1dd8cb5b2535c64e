#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "fixtures.hpp"
#include "model/json.hpp"
#include "model/labels.hpp"
#include "model/page.hpp"

using namespace booking;
using booking::test::utc;
using nlohmann::json;
using namespace std::chrono_literals;

TEST_CASE("the booking page has the shape of SPEC §4") {
  zone z{"Asia/Taipei"};
  auto now = utc("2026-11-25T00:00:00Z");
  user_snapshot snap;
  snap.u = user{7, "Mei Lin", "m@x", 5, 2};
  booking::booking b;
  b.id = 11;
  b.user_id = 7;
  b.status = booking_status::booked;
  b.sess = session{3, 1, "HIIT", "Coach Amy", now + 10h, now + 11h, 12};
  b.session_id = 3;
  b.created_at = b.updated_at = now - 24h;
  snap.bookings.push_back(b);
  std::vector<location> locs{{1, "Studio Xinyi", "1 Road"}};
  auto page = render_page(snap, date_range{*parse_date("2026-11-23"), *parse_date("2026-12-20")}, locs, z,
                          lang::en, now);
  CHECK(page.valid_until == now + 10h);
  auto j = json::parse(page.body);
  CHECK(j["user"] == json{{"id", 7}, {"name", "Mei Lin"}});
  CHECK(j["range"] == json{{"from", "2026-11-23"}, {"to", "2026-12-20"}});
  CHECK(j["stats"]["upcoming"] == 1);
  CHECK(j["stats"]["credits_remaining"] == 5);
  CHECK(j["stats"]["leave_quota_remaining"] == 2);
  REQUIRE(j["weeks"].size() == 4);
  CHECK(j["weeks"][0]["week_start"] == "2026-11-23");
  auto jb = j["weeks"][0]["bookings"][0];
  CHECK(jb["id"] == 11);
  CHECK(jb["status"] == "booked");
  CHECK(jb["state"] == "upcoming");
  CHECK(jb["state_label"] == "Upcoming");
  CHECK(jb["credit_refunded"] == false);
  CHECK(jb["created_at"] == "2026-11-24T08:00:00+08:00");
  CHECK(jb["session"]["starts_at"] == "2026-11-25T18:00:00+08:00");
  CHECK(jb["session"]["location_id"] == 1);
  CHECK(j["locations"][0]["name"] == "Studio Xinyi");
  CHECK(!j["user"].contains("email")); // no personal data beyond the name

  auto zh = json::parse(render_page(snap, date_range{*parse_date("2026-11-23"), *parse_date("2026-11-29")}, locs, z,
                                    lang::zh_tw, now)
                          .body);
  CHECK(zh["weeks"][0]["bookings"][0]["state_label"] == "即將到來");
}

TEST_CASE("error bodies in both languages") {
  auto en = json::parse(error_body(error_code::session_full, lang::en));
  CHECK(en["error"]["code"] == "session_full");
  CHECK(en["error"]["message"] == "This session is full.");
  auto zh = json::parse(error_body(error_code::session_full, lang::zh_tw));
  CHECK(zh["error"]["message"] == "此課程已額滿。");
  CHECK(parse_lang("zh-tw") == lang::zh_tw);
  CHECK(!parse_lang("zh-TW"));
  CHECK(!parse_lang("fr"));
}
