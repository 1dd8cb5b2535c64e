#include <cstdio>
#include <cstdlib>

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
  b.created_at = b.updated_at = now - 24h;
  snap.bookings.push_back(b);
  std::vector<location> locs{{1, "Studio Xinyi", "1 Road"}};
  auto page = render_page(snap, date_range{*parse_date("2026-11-23"), *parse_date("2026-12-20")}, locs, z,
                          lang::en, now);
  CHECK(page.valid_until == now + 10h);
  auto j = json::parse(page.body);
  CHECK(j.dump() == page.body); // byte for byte what a document tree would dump
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

TEST_CASE("the page's waitlist and the booking's waitlist fields") {
  zone z{"Asia/Taipei"};
  auto now = utc("2026-11-25T00:00:00Z");
  user_snapshot snap;
  snap.u = user{7, "Mei Lin", "m@x", 5, 2};
  booking::booking b;
  b.id = 11;
  b.user_id = 7;
  b.status = booking_status::cancelled;
  b.cancelled_by = canceller::studio;
  b.sess = session{3, 1, "HIIT", "Coach Amy", now + 40h, now + 41h, 12};
  b.sess.edit().status = session_status::cancelled;
  b.created_at = b.updated_at = now - 24h;
  snap.bookings.push_back(b);
  b.id = 12;
  b.status = booking_status::booked;
  b.cancelled_by = canceller::none;
  b.via_waitlist = true;
  b.sess = session{4, 1, "Spin", "Coach Eva", now + 100h, now + 101h, 8};
  snap.bookings.push_back(b);
  auto entry = [&](id_type id, instant starts, int position) {
    waitlist_entry e;
    e.id = id;
    e.user_id = 7;
    e.session_id = e.sess.edit().id = 20 + id;
    e.sess.edit().title = "Boxing";
    e.sess.edit().location_id = 1;
    e.sess.edit().starts_at = starts;
    e.sess.edit().ends_at = starts + 1h;
    e.joined_at = now - 1h;
    e.position = position;
    return e;
  };
  snap.waiting.push_back(entry(31, now + 10h, 2)); // past its cut-off (14 h): expired
  snap.waiting.push_back(entry(30, now + 30h, 1)); // cut-off at now + 16h
  auto page = render_page(snap, date_range{*parse_date("2026-11-23"), *parse_date("2026-12-20")}, {}, z, lang::en,
                          now, 14h);
  CHECK(page.valid_until == now + 16h); // the second entry expires then
  auto j = json::parse(page.body);
  CHECK(j.dump() == page.body);
  auto cancelled = j["weeks"][0]["bookings"][0];
  CHECK(cancelled["cancelled_by"] == "studio");
  CHECK(cancelled["via_waitlist"] == false);
  CHECK(cancelled["session"]["status"] == "cancelled");
  auto promoted = j["weeks"][0]["bookings"][1]; // the same ISO week (Sunday)
  CHECK(promoted["cancelled_by"].is_null());
  CHECK(promoted["via_waitlist"] == true);
  CHECK(promoted["session"]["status"] == "scheduled");
  REQUIRE(j["waitlist"].size() == 2);
  auto w0 = j["waitlist"][0];
  CHECK(w0["id"] == 31);
  CHECK(w0["status"] == "waiting");
  CHECK(w0["state"] == "expired");
  CHECK(w0["state_label"] == "Expired");
  CHECK(w0["position"] == 2);
  CHECK(w0["joined_at"] == "2026-11-25T07:00:00+08:00");
  CHECK(w0["session"]["id"] == 51);
  CHECK(w0["session"]["title"] == "Boxing");
  CHECK(w0["session"]["starts_at"] == "2026-11-25T18:00:00+08:00");
  CHECK(w0["session"]["status"] == "scheduled");
  CHECK(j["waitlist"][1]["state"] == "waiting");
  auto zh = json::parse(render_page(snap, date_range{*parse_date("2026-11-23"), *parse_date("2026-11-29")}, {}, z,
                                    lang::zh_tw, now, 14h)
                          .body);
  CHECK(zh["waitlist"][1]["state_label"] == "候補中");
  CHECK(zh["waitlist"][0]["state_label"] == "已逾期");

  auto gone = entry(40, now + 30h, 0);
  gone.status = waitlist_status::withdrawn;
  auto jg = json::parse(entry_body(gone, z, lang::en, now, 14h));
  CHECK(jg["status"] == "withdrawn");
  CHECK(jg["position"].is_null());
  CHECK(jg["state"].is_null());

  session_view v;
  v.s = session{5, 1, "HIIT", "Coach", now + 10h, now + 11h, 12};
  v.s.status = session_status::cancelled;
  v.s.waitlist_capacity = 4;
  v.waitlist_length = 3;
  std::string sv;
  json_writer svw{sv};
  write_session_view(svw, v, z);
  auto js = json::parse(sv);
  CHECK(js.dump() == sv);
  CHECK(js["status"] == "cancelled");
  CHECK(js["waitlist_capacity"] == 4);
  CHECK(js["waitlist_length"] == 3);
  CHECK(js["seats_left"] == 0);
}

TEST_CASE("every waitlist error has a message in both languages") {
  for (auto e : {error_code::already_waitlisted, error_code::session_has_space, error_code::waitlist_full,
                 error_code::not_withdrawable, error_code::capacity_below_booked, error_code::email_taken}) {
    auto en = json::parse(error_body(e, lang::en));
    auto zh = json::parse(error_body(e, lang::zh_tw));
    CHECK(en["error"]["code"] == to_string(e));
    CHECK(zh["error"]["code"] == to_string(e));
    CHECK(en["error"]["message"].get<std::string>().size() > 5);
    CHECK(zh["error"]["message"] != en["error"]["message"]);
  }
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

TEST_CASE("the streaming writer writes what nlohmann dumps: escapes, UTF-8, numbers, nesting") {
  std::string out;
  json_writer w{out};
  std::string nasty = "quote\" back\\ slash/ \b\f\n\r\t \x01\x1f \x7f caf\xc3\xa9 \xe6\x9c\x83 \xf0\x9f\x8f\x8b";
  w.begin_object()
    .key("a").begin_array().value(nasty).value(std::int64_t{-9007199254740993}).value(true).null().begin_object().end_object()
    .begin_array().end_array().end_array()
    .key("b").value("")
    .key("c").begin_object().key("d").value(0).end_object()
    .end_object();
  auto parsed = json::parse(out);
  CHECK(parsed.dump() == out);
  CHECK(parsed["a"][0] == nasty);
  CHECK(parsed["a"][1] == -9007199254740993LL);
  CHECK(out.find("\\u0001\\u001f") != std::string::npos);

  // Invalid UTF-8 never reaches a body: each bad byte becomes U+FFFD, as nlohmann's `replace` handler does.
  for (std::string bad : {"\xff", "\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "ok\xe6\x9c"}) {
    std::string o;
    json_writer::escape(o, bad);
    auto back = json::parse(o); // throws on invalid UTF-8
    CHECK(back.get<std::string>().find("\xef\xbf\xbd") != std::string::npos);
  }
}

TEST_CASE("times and dates are formatted without printf, across offsets and transitions") {
  zone ny{"America/New_York"};
  zone tp{"Asia/Taipei"};
  // Each instant formatted the fast way equals the date library's own formatting of the local time.
  for (long long t = 1700000000; t < 1700000000 + 400LL * 86400; t += 86400 / 7 + 13) {
    instant i{std::chrono::seconds{t}};
    for (const zone* z : {&ny, &tp}) {
      auto got = z->format(i);
      auto zt = date::make_zoned(date::locate_zone(z->name()), i);
      auto expect = date::format("%Y-%m-%dT%H:%M:%S", zt.get_local_time());
      auto off = zt.get_info().offset.count();
      char tail[40];
      std::snprintf(tail, sizeof tail, "%c%02lld:%02lld", off < 0 ? '-' : '+', std::llabs(off) / 3600, std::llabs(off) % 3600 / 60);
      CHECK(got == expect + tail);
    }
  }
  CHECK(format_date(*parse_date("0999-01-02")) == "0999-01-02");
  CHECK(format_date(*parse_date("2026-12-31")) == "2026-12-31");
}
