// End-to-end: studio administration against a real server process and its SQLite file.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <mutex>
#include <set>
#include <thread>

#include <sys/wait.h>

#include "model/schedule.hpp"
#include "server_fixture.hpp"

using namespace booking;
using namespace booking::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> fast_limits{"--rate-limit-per-second=100000", "--rate-limit-burst=100000"};

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

struct env {
  seeded_db db;
  server_process srv;
  httplib::Client cli = srv.client();
  int admin_writes = 0; // 2xx admin writes that were not replays: one audit row each

  explicit env(std::vector<std::string> flags = {}, int users = 40)
    : db(users), srv(db.path, with(fast_limits, flags)) {}

  const std::string& tok(id_type u) { return db.tokens.at(u); }
  httplib::Headers admin() { return bearer(tok(db.admin)); }
  std::int64_t q(const std::string& sql) { return db.exec(sql); }

  httplib::Result post(const std::string& path, const json& body, httplib::Headers h = {}) {
    if (h.empty())
      h = admin();
    auto r = cli.Post(("/en/v2/admin/" + path).c_str(), h, body.dump(), "application/json");
    count(r);
    return r;
  }
  httplib::Result patch(const std::string& path, const json& body) {
    auto r = cli.Patch(("/en/v2/admin/" + path).c_str(), admin(), body.dump(), "application/json");
    count(r);
    return r;
  }
  httplib::Result get(const std::string& path) { return cli.Get(("/en/v2/admin/" + path).c_str(), admin()); }
  void count(const httplib::Result& r) {
    if (r && r->status >= 200 && r->status < 300 && !r->has_header("Idempotent-Replayed"))
      ++admin_writes;
  }

  /// A member created through the API: id and token.
  std::pair<id_type, std::string> member(const std::string& email, int credits = 5) {
    auto r = post("members", json{{"name", "M " + email}, {"email", email}, {"credits", credits}, {"leave_quota", 1}});
    REQUIRE(r);
    REQUIRE(r->status == 201);
    auto j = body_of(r);
    return {j["member"]["id"].get<id_type>(), j["token"].get<std::string>()};
  }

  /// SPEC §5.11 and the audit trail, read from the file after every test.
  void check_invariants() {
    CHECK(q("SELECT count(*) FROM users u WHERE u.credits != "
            "(SELECT coalesce(sum(delta), 0) FROM credit_ledger l WHERE l.user_id = u.id)")
          == 0);
    CHECK(q("SELECT count(*) FROM sessions s WHERE (SELECT count(*) FROM bookings b WHERE b.session_id = s.id AND "
            "b.status = 'booked') > s.capacity")
          == 0);
    CHECK(q("SELECT count(*) FROM audit_events") == admin_writes);
    CHECK(q("SELECT count(*) FROM audit_events WHERE actor_user_id != " + std::to_string(db.admin)) == 0);
    CHECK(q("SELECT count(*) FROM api_tokens WHERE length(token_hash) != 64") == 0);
  }
};

std::string future_instant(const zone& z, std::chrono::hours from_now) { return z.format(now_seconds() + from_now); }

json find_session(const json& page, id_type session_id) {
  for (auto& w : page["weeks"])
    for (auto& b : w["bookings"])
      if (b["session"]["id"] == session_id)
        return b;
  return json();
}

} // namespace

TEST_CASE("admin routes: no token 401, a member's token 403, bad language 404") {
  env e;
  id_type member = e.db.admin == 1 ? 2 : 1;
  const std::vector<std::pair<std::string, std::string>> routes{
    {"POST", "locations"},        {"PATCH", "locations/1"},        {"POST", "sessions"},
    {"POST", "schedules"},        {"PATCH", "sessions/1"},         {"POST", "sessions/1/cancel"},
    {"GET", "sessions/1/waitlist"}, {"POST", "members"},           {"GET", "members/1"},
    {"POST", "members/1/tokens"}, {"POST", "tokens/1/revoke"},     {"POST", "members/1/deactivate"},
    {"POST", "members/1/credits"}, {"GET", "members/1/ledger"},    {"GET", "audit"}};
  for (auto& [method, path] : routes) {
    auto send = [&](const std::string& lang, const httplib::Headers& h) {
      auto full = "/" + lang + "/v2/admin/" + path;
      if (method == "GET")
        return e.cli.Get(full.c_str(), h);
      if (method == "PATCH")
        return e.cli.Patch(full.c_str(), h, "{}", "application/json");
      return e.cli.Post(full.c_str(), h, "{}", "application/json");
    };
    auto none = send("en", {});
    REQUIRE(none);
    CHECK_MESSAGE(none->status == 401, path);
    CHECK(error_code_of(none) == "unauthorized");
    auto m = send("zh-tw", bearer(e.tok(member)));
    CHECK_MESSAGE(m->status == 403, path);
    CHECK(body_of(m)["error"]["message"] == "您無權執行此操作。");
    CHECK_MESSAGE(send("fr", e.admin())->status == 404, path);
    CHECK(send("en", bearer("not-a-token"))->status == 401);
  }
  CHECK(e.get("audit?user_id=999999")->status == 404);
  CHECK(e.get("audit?user_id=abc")->status == 400);
  CHECK(e.get("audit?user_id=" + std::to_string(member))->status == 200);
  CHECK(e.q("SELECT count(*) FROM audit_events") == 0);
  e.check_invariants();
}

TEST_CASE("locations: create and edit show on the very next /locations and page") {
  env e;
  auto r = e.post("locations", json{{"name", "Riverside"}, {"address", "9 Quay"}});
  REQUIRE(r->status == 201);
  auto id = body_of(r)["id"].get<id_type>();
  auto names = [&](id_type user) {
    std::set<std::string> out;
    auto r = e.cli.Get("/en/v2/training/locations", bearer(e.tok(user)));
    REQUIRE(r);
    CHECK_MESSAGE(r->status == 200, r->body);
    auto j = body_of(r);
    for (auto& l : j["locations"])
      out.insert(l["name"].get<std::string>());
    return out;
  };
  CHECK(names(1).count("Riverside") == 1);
  auto page = body_of(e.cli.Get("/en/v2/training/booking", bearer(e.tok(2))));
  CHECK(page["locations"].back()["name"] == "Riverside");
  auto p = e.patch("locations/" + std::to_string(id), json{{"name", "Riverside Hall"}});
  REQUIRE(p->status == 200);
  CHECK(body_of(p)["address"] == "9 Quay");
  CHECK(names(3).count("Riverside Hall") == 1);
  CHECK(names(3).count("Riverside") == 0);
  page = body_of(e.cli.Get("/en/v2/training/booking", bearer(e.tok(2)))); // cached page, new list
  CHECK(page["locations"].back()["name"] == "Riverside Hall");

  // Refusals.
  CHECK(e.post("locations", json{{"name", "X"}})->status == 400);
  CHECK(e.post("locations", json{{"name", ""}, {"address", "A"}})->status == 400);
  CHECK(e.post("locations", json{{"name", "   "}, {"address", "A"}})->status == 400);
  CHECK(e.post("locations", json{{"name", std::string(201, 'n')}, {"address", "A"}})->status == 400);
  CHECK(e.post("locations", json{{"name", 5}, {"address", "A"}})->status == 400);
  CHECK(e.post("locations", json{{"name", "X"}, {"address", "A"}, {"nmae", "typo"}})->status == 400);
  CHECK(e.patch("locations/abc", json{{"name", "X"}})->status == 400);
  CHECK(e.patch("locations/0", json{{"name", "X"}})->status == 400);
  CHECK(error_code_of(e.patch("locations/9999", json{{"name", "X"}})) == "not_found");
  auto audits = e.q("SELECT COUNT(*) FROM audit_events");
  auto empty = e.cli.Patch(("/en/v2/admin/locations/" + std::to_string(id)).c_str(), e.admin(), "", "application/json");
  REQUIRE(empty);
  CHECK(empty->status == 400); // no JSON at all, not `{}`: nothing changed, nothing audited
  CHECK(error_code_of(empty) == "invalid_request");
  CHECK(e.q("SELECT COUNT(*) FROM audit_events") == audits);
  auto bad = e.cli.Post("/zh-tw/v2/admin/locations", e.admin(), "{\"name\":", "application/json");
  CHECK(bad->status == 400);
  CHECK(body_of(bad)["error"]["message"] == "請求格式不正確。");
  e.check_invariants();
}

TEST_CASE("sessions: create in the future, cancel refunds every booked member once, again 200, started 409") {
  env e;
  zone tz{"Asia/Taipei"};
  json s{{"location_id", 1}, {"title", "Boxing"}, {"coach", "Lee"}, {"starts_at", future_instant(tz, 30h)},
         {"ends_at", future_instant(tz, 31h)}, {"capacity", 2}, {"waitlist_capacity", 4}};
  auto r = e.post("sessions", s);
  REQUIRE(r->status == 201);
  auto j = body_of(r);
  auto sid = j["id"].get<id_type>();
  CHECK(j["status"] == "scheduled");
  CHECK(j["waitlist_capacity"] == 4);
  CHECK(j["seats_left"] == 2);
  // Shows in the sessions list right away.
  auto from = format_date(tz.today(now_seconds()));
  auto to = format_date(tz.today(now_seconds()) + date::days{5});
  auto list = body_of(e.cli.Get(("/en/v2/training/sessions?location_id=1&from=" + from + "&to=" + to).c_str(),
                                bearer(e.tok(1))));
  bool listed = false;
  for (auto& x : list["sessions"])
    listed = listed || x["id"] == sid;
  CHECK(listed);

  // Refusals.
  for (std::int64_t big : {std::int64_t{2147483648}, std::numeric_limits<std::int64_t>::max()}) {
    auto far = s; // an id past 32 bits is still an id: no such location
    far["location_id"] = big;
    CHECK(error_code_of(e.post("sessions", far)) == "not_found");
  }
  auto beyond = s;
  beyond["location_id"] = std::uint64_t{9223372036854775808u};
  CHECK(e.post("sessions", beyond)->status == 400);
  auto past = s;
  past["starts_at"] = future_instant(tz, -1h);
  CHECK(e.post("sessions", past)->status == 400);
  auto backwards = s;
  backwards["ends_at"] = s["starts_at"];
  CHECK(e.post("sessions", backwards)->status == 400);
  auto no_offset = s;
  no_offset["starts_at"] = s["starts_at"].get<std::string>().substr(0, 19);
  CHECK(e.post("sessions", no_offset)->status == 400);
  auto bad_date = s;
  bad_date["starts_at"] = "2027-02-30T10:00:00+08:00";
  CHECK(e.post("sessions", bad_date)->status == 400);
  auto zero = s;
  zero["capacity"] = 0;
  CHECK(e.post("sessions", zero)->status == 400);
  auto text_cap = s;
  text_cap["capacity"] = "2";
  CHECK(e.post("sessions", text_cap)->status == 400);
  auto nowhere = s;
  nowhere["location_id"] = 9999;
  CHECK(error_code_of(e.post("sessions", nowhere)) == "not_found");
  auto zulu = s;
  zulu["starts_at"] = date::format("%FT%TZ", now_seconds() + 40h);
  zulu["ends_at"] = date::format("%FT%TZ", now_seconds() + 41h);
  CHECK(e.post("sessions", zulu)->status == 201);

  // Two members book; one waits; the studio cancels inside the 12 h window's equivalent: all refunded.
  auto [m1, t1] = e.member("c1@x.org", 3);
  auto [m2, t2] = e.member("c2@x.org", 3);
  auto [m3, t3] = e.member("c3@x.org", 3);
  for (auto& t : {t1, t2})
    REQUIRE(e.cli.Post("/en/v2/training/bookings", bearer(t), json{{"session_id", sid}}.dump(), "application/json")->status
            == 201);
  e.q("INSERT INTO waitlist_entries (session_id, user_id, status, joined_at, updated_at) VALUES (" + std::to_string(sid)
      + ", " + std::to_string(m3) + ", 'waiting', 1, 1)");
  auto wl = body_of(e.get("sessions/" + std::to_string(sid) + "/waitlist"));
  REQUIRE(wl["entries"].size() == 1);
  CHECK(wl["entries"][0]["user_id"] == m3);
  CHECK(wl["entries"][0]["position"] == 1);
  // Warm both members' pages, so the cancel must reach their caches.
  for (auto& t : {t1, t2})
    CHECK(find_session(body_of(e.cli.Get("/en/v2/training/booking", bearer(t))), sid)["status"] == "booked");
  auto c = e.post("sessions/" + std::to_string(sid) + "/cancel", json{{"reason", "flooded"}});
  REQUIRE(c->status == 200);
  CHECK(body_of(c)["status"] == "cancelled");
  CHECK(body_of(c)["seats_left"] == 0);
  for (auto& t : {t1, t2}) {
    auto page = body_of(e.cli.Get("/en/v2/training/booking", bearer(t)));
    CHECK(find_session(page, sid)["status"] == "cancelled");
    CHECK(page["stats"]["credits_remaining"] == 3);
  }
  CHECK(e.q("SELECT count(*) FROM bookings WHERE session_id = " + std::to_string(sid)
            + " AND cancelled_by = 'studio' AND credit_refunded = 1")
        == 2);
  CHECK(e.q("SELECT count(*) FROM waitlist_entries WHERE status = 'cancelled' AND user_id = " + std::to_string(m3)) == 1);
  auto again = e.post("sessions/" + std::to_string(sid) + "/cancel", json::object());
  CHECK(again->status == 200);
  CHECK(e.q("SELECT count(*) FROM credit_ledger WHERE reason = 'studio_cancel'") == 2);
  CHECK(error_code_of(e.post("sessions/999999/cancel", json::object())) == "not_found");
  CHECK(e.post("sessions/1x/cancel", json::object())->status == 400);
  auto started = e.db.add_session(-1, 5);
  auto closed = e.post("sessions/" + std::to_string(started) + "/cancel", json::object());
  CHECK(closed->status == 409);
  CHECK(error_code_of(closed) == "session_closed");
  CHECK(error_code_of(e.patch("sessions/" + std::to_string(started), json{{"title", "x"}})) == "session_closed");
  e.check_invariants();
}

TEST_CASE("schedules across DST in America/New_York and Europe/Berlin, instants from the zone database") {
  struct zcase {
    const char* zone_name;
    const char* from;
    const char* to;
    const char* hhmm;
    std::vector<std::string> expected; // RFC 3339 in the zone
  };
  // Dates in 2027: schedules are created from today on.
  std::vector<zcase> cases{
    {"America/New_York", "2027-03-07", "2027-03-21", "02:30",
     {"2027-03-07T02:30:00-05:00", "2027-03-14T03:30:00-04:00", "2027-03-21T02:30:00-04:00"}},
    {"America/New_York", "2027-10-31", "2027-11-14", "01:30",
     {"2027-10-31T01:30:00-04:00", "2027-11-07T01:30:00-04:00", "2027-11-14T01:30:00-05:00"}},
    {"Europe/Berlin", "2027-03-21", "2027-04-04", "02:30",
     {"2027-03-21T02:30:00+01:00", "2027-03-28T03:30:00+02:00", "2027-04-04T02:30:00+02:00"}},
    {"Europe/Berlin", "2027-10-24", "2027-11-07", "02:30",
     {"2027-10-24T02:30:00+02:00", "2027-10-31T02:30:00+02:00", "2027-11-07T02:30:00+01:00"}},
  };
  for (auto& zc : cases) {
    CAPTURE(zc.zone_name);
    CAPTURE(zc.from);
    env e{{std::string("--timezone=") + zc.zone_name}, 12};
    auto r = e.post("schedules", json{{"location_id", 1}, {"title", "Early"}, {"coach", "Kim"}, {"capacity", 10},
                                      {"weekdays", {7}}, {"start_time", zc.hhmm}, {"duration_minutes", 60},
                                      {"from", zc.from}, {"to", zc.to}});
    REQUIRE(r->status == 201);
    auto list = body_of(r)["sessions"];
    REQUIRE(list.size() == zc.expected.size());
    zone z{zc.zone_name};
    for (std::size_t i = 0; i < list.size(); ++i) {
      CHECK(list[i]["starts_at"] == zc.expected[i]);
      // The stored instant is the zone database's: the earliest reading of the wall clock, or for
      // the gap the wall clock read with the offset before it.
      auto stored = instant{std::chrono::seconds{
        e.q("SELECT starts_at FROM sessions WHERE id = " + std::to_string(list[i]["id"].get<id_type>()))}};
      auto day = *parse_date(zc.expected[i].substr(0, 10));
      auto wall = date::local_seconds{day.time_since_epoch()} + *parse_hhmm(zc.hhmm);
      auto info = date::locate_zone(zc.zone_name)->get_info(wall);
      auto want = info.result == date::local_info::nonexistent
                    ? instant{wall.time_since_epoch() - info.first.offset}
                    : date::zoned_seconds{zc.zone_name, wall, date::choose::earliest}.get_sys_time();
      CHECK(stored == want);
      CHECK(z.format(stored) == zc.expected[i]);
      CHECK(e.q("SELECT ends_at - starts_at FROM sessions WHERE id = " + std::to_string(list[i]["id"].get<id_type>()))
            == 3600);
    }
    CHECK(e.q("SELECT count(*) FROM audit_events WHERE action = 'schedule.create'") == 1);
    // Refusals: a range too long, too many sessions, from before today, bad weekdays and times.
    json base{{"location_id", 1}, {"title", "T"}, {"coach", "C"}, {"capacity", 10}, {"weekdays", {1}},
              {"start_time", "07:00"}, {"duration_minutes", 60}, {"from", "2027-01-01"}, {"to", "2027-01-31"}};
    auto variant = [&](const char* k, json v) {
      auto b = base;
      b[k] = std::move(v);
      return e.post("schedules", b)->status;
    };
    CHECK(variant("to", "2028-01-02") == 400);                    // 367 days
    CHECK(variant("weekdays", {1, 2, 3, 4, 5, 6, 7}) == 201);     // 31 sessions
    CHECK(variant("from", "2026-01-01") == 400);                  // before today
    CHECK(variant("weekdays", json::array()) == 400);
    CHECK(variant("weekdays", {0}) == 400);
    CHECK(variant("weekdays", {"1"}) == 400);
    CHECK(variant("start_time", "7:00") == 400);
    CHECK(variant("start_time", "24:00") == 400);
    CHECK(variant("duration_minutes", 0) == 400);
    CHECK(variant("from", "2027-02-30") == 400);
    { // sessions ending in year 10000 (a black-box review: stored, then shown a year before their start)
      auto late = base;
      late["weekdays"] = {5};
      late["start_time"] = "23:30";
      late["from"] = "9999-12-01";
      late["to"] = "9999-12-31";
      CHECK(e.post("schedules", late)->status == 400);
      late["to"] = "9999-12-29";
      CHECK(e.post("schedules", late)->status == 400);
    }
    auto many = base;
    many["weekdays"] = {1, 2, 3, 4, 5, 6, 7};
    many["from"] = "2027-01-01";
    many["to"] = "2027-07-20"; // 201 days, every day
    CHECK(e.post("schedules", many)->status == 400);
    e.check_invariants();
  }
}

TEST_CASE("edit session: capacity never below booked (409), raise it, new times on every member's next page") {
  env e;
  zone tz{"Asia/Taipei"};
  auto r = e.post("sessions", json{{"location_id", 1}, {"title", "Row"}, {"coach", "Ida"},
                                   {"starts_at", future_instant(tz, 26h)}, {"ends_at", future_instant(tz, 27h)},
                                   {"capacity", 3}});
  auto sid = body_of(r)["id"].get<id_type>();
  // A member who cancelled their booking still sees it on their page, with the session: they see
  // the edit too.
  auto [gone_id, gone] = e.member("edit-gone@x.org");
  (void)gone_id;
  auto gb = e.cli.Post("/en/v2/training/bookings", bearer(gone), json{{"session_id", sid}}.dump(), "application/json");
  REQUIRE(gb->status == 201);
  REQUIRE(e.cli.Post(("/en/v2/training/bookings/" + std::to_string(body_of(gb)["id"].get<id_type>()) + "/cancel").c_str(),
                     bearer(gone), "", "application/json")
            ->status
          == 200);
  std::vector<std::string> tokens;
  for (int i = 0; i < 3; ++i) {
    auto [id, t] = e.member("edit" + std::to_string(i) + "@x.org");
    REQUIRE(e.cli.Post("/en/v2/training/bookings", bearer(t), json{{"session_id", sid}}.dump(), "application/json")
              ->status
            == 201);
    tokens.push_back(t);
  }
  auto low = e.patch("sessions/" + std::to_string(sid), json{{"capacity", 2}});
  CHECK(low->status == 409);
  CHECK(error_code_of(low) == "capacity_below_booked");
  auto zh = e.cli.Patch(("/zh-tw/v2/admin/sessions/" + std::to_string(sid)).c_str(), e.admin(),
                        json{{"capacity", 1}}.dump(), "application/json");
  CHECK(body_of(zh)["error"]["message"] == "名額不可少於已預約的人數。");
  CHECK(e.patch("sessions/" + std::to_string(sid), json{{"capacity", 5}})->status == 200);
  CHECK(e.patch("sessions/" + std::to_string(sid), json{{"capacity", 3}})->status == 200);
  CHECK(e.patch("sessions/" + std::to_string(sid), json{{"capacity", 0}})->status == 400);
  CHECK(e.patch("sessions/" + std::to_string(sid), json{{"ends_at", future_instant(tz, 25h)}})->status == 400);
  CHECK(e.patch("sessions/" + std::to_string(sid), json{{"starts_at", "tomorrow"}})->status == 400);
  // Year 10000 in UTC (a black-box review's finding: it was stored and shown as another instant).
  CHECK(e.patch("sessions/" + std::to_string(sid),
                json{{"starts_at", "9999-12-31T23:00:00-14:00"}, {"ends_at", "9999-12-31T23:30:00-14:00"}})->status == 400);
  CHECK(e.patch("sessions/" + std::to_string(sid),
                json{{"starts_at", "0001-01-01T01:00:00+14:00"}, {"ends_at", "0001-01-01T02:00:00+14:00"}})->status == 400);
  CHECK(e.patch("sessions/" + std::to_string(sid), json{{"title", nullptr}})->status == 400);
  CHECK(e.patch("sessions/" + std::to_string(sid), json{{"colour", "red"}})->status == 400);
  CHECK(error_code_of(e.patch("sessions/999999", json{{"title", "x"}})) == "not_found");

  tokens.push_back(gone);
  for (auto& t : tokens) // warm caches
    CHECK(find_session(body_of(e.cli.Get("/en/v2/training/booking", bearer(t))), sid)["session"]["title"] == "Row");
  auto new_start = future_instant(tz, 28h);
  auto ed = e.patch("sessions/" + std::to_string(sid),
                    json{{"starts_at", new_start}, {"ends_at", future_instant(tz, 29h)}, {"title", "Row+"}});
  REQUIRE(ed->status == 200);
  CHECK(body_of(ed)["starts_at"] == new_start);
  for (auto& t : tokens) {
    auto b = find_session(body_of(e.cli.Get("/en/v2/training/booking", bearer(t))), sid);
    CHECK(b["session"]["starts_at"] == new_start);
    CHECK(b["session"]["title"] == "Row+");
  }
  auto ev = body_of(e.get("audit?limit=1"))["events"];
  REQUIRE(ev.size() == 1);
  CHECK(ev[0]["action"] == "session.update");
  CHECK(ev[0]["detail"]["changed"]["title"]["to"] == "Row+");
  e.check_invariants();
}

TEST_CASE("members, tokens, credits, ledger and audit") {
  env e;
  auto r = e.post("members", json{{"name", "Noa"}, {"email", "noa@example.org"}, {"credits", 2}});
  REQUIRE(r->status == 201);
  auto j = body_of(r);
  auto id = j["member"]["id"].get<id_type>();
  auto token = j["token"].get<std::string>();
  CHECK(j["member"]["active"] == true);
  CHECK(e.q("SELECT count(*) FROM api_tokens WHERE user_id = " + std::to_string(id)) == 1);
  // The new member's token works at once; the token itself is nowhere in the file.
  auto page = e.cli.Get("/en/v2/training/booking", bearer(token));
  CHECK(page->status == 200);
  CHECK(body_of(page)["user"]["id"] == id);
  CHECK(e.q("SELECT count(*) FROM idempotency_keys WHERE body LIKE '%" + token + "%'") == 0);
  auto got = body_of(e.get("members/" + std::to_string(id)));
  CHECK(got == json{{"id", id}, {"name", "Noa"}, {"email", "noa@example.org"}, {"credits", 2}, {"leave_quota", 0},
                    {"active", true}});
  CHECK(error_code_of(e.get("members/999999")) == "not_found");
  CHECK(e.get("members/x")->status == 400);

  auto taken = e.post("members", json{{"name", "Noa 2"}, {"email", "NOA@example.org"}});
  CHECK(taken->status == 409);
  CHECK(error_code_of(taken) == "email_taken");
  for (auto bad : {json{{"name", "A"}}, json{{"name", "A"}, {"email", "no-at-sign"}},
                   json{{"name", "A"}, {"email", "a@b"}}, json{{"name", "A"}, {"email", "a b@c.d"}},
                   json{{"name", "A"}, {"email", "z@c.d"}, {"credits", -1}},
                   json{{"name", "A"}, {"email", "z@c.d"}, {"credits", 1.5}}})
    CHECK_MESSAGE(e.post("members", bad)->status == 400, bad.dump());

  // Credits.
  auto g = e.post("members/" + std::to_string(id) + "/credits", json{{"delta", 10}, {"reason", "10-class pack"}});
  REQUIRE(g->status == 200);
  CHECK(body_of(g)["balance"] == 12);
  CHECK(body_of(g)["entry"]["reason"] == "grant");
  CHECK(body_of(e.cli.Get("/en/v2/training/booking", bearer(token)))["stats"]["credits_remaining"] == 12);
  auto a = e.post("members/" + std::to_string(id) + "/credits", json{{"delta", -5}, {"reason", "correction"}});
  CHECK(body_of(a)["balance"] == 7);
  CHECK(body_of(a)["entry"]["reason"] == "adjustment");
  auto neg = e.post("members/" + std::to_string(id) + "/credits", json{{"delta", -8}, {"reason", "too much"}});
  CHECK(neg->status == 409);
  CHECK(error_code_of(neg) == "insufficient_credits");
  for (auto bad : {json{{"delta", 0}, {"reason", "r"}}, json{{"delta", 1001}, {"reason", "r"}},
                   json{{"delta", -1001}, {"reason", "r"}}, json{{"delta", 1}}, json{{"delta", 1}, {"reason", ""}},
                   json{{"delta", 1}, {"reason", std::string(201, 'r')}}, json{{"delta", "1"}, {"reason", "r"}}})
    CHECK_MESSAGE(e.post("members/" + std::to_string(id) + "/credits", bad)->status == 400, bad.dump());
  CHECK(error_code_of(e.post("members/999999/credits", json{{"delta", 1}, {"reason", "r"}})) == "not_found");
  auto ledger = body_of(e.get("members/" + std::to_string(id) + "/ledger?limit=2"))["entries"];
  REQUIRE(ledger.size() == 2);
  CHECK(ledger[0]["delta"] == -5);
  CHECK(ledger[0]["balance_after"] == 7);
  CHECK(ledger[0]["actor_id"] == e.db.admin);
  CHECK(ledger[1]["delta"] == 10);
  CHECK(body_of(e.get("members/" + std::to_string(id) + "/ledger"))["entries"].size() == 3);
  CHECK(e.get("members/" + std::to_string(id) + "/ledger?limit=0")->status == 400);
  CHECK(e.get("members/" + std::to_string(id) + "/ledger?limit=1001")->status == 400);

  // Tokens: a second one, then revoke the first; the second still works.
  auto t2 = e.post("members/" + std::to_string(id) + "/tokens", json::object());
  REQUIRE(t2->status == 201);
  auto second = body_of(t2)["token"].get<std::string>();
  auto first_id = e.q("SELECT min(id) FROM api_tokens WHERE user_id = " + std::to_string(id));
  REQUIRE(e.post("tokens/" + std::to_string(first_id) + "/revoke", json::object())->status == 200);
  CHECK(e.cli.Get("/en/v2/training/booking", bearer(token))->status == 401);
  CHECK(e.cli.Get("/en/v2/training/booking", bearer(second))->status == 200);
  CHECK(e.post("tokens/" + std::to_string(first_id) + "/revoke", json::object())->status == 200);
  CHECK(error_code_of(e.post("tokens/999999/revoke", json::object())) == "not_found");
  CHECK(e.post("members/" + std::to_string(id) + "/tokens", json{{"role", "admin"}})->status == 400);

  auto events = body_of(e.get("audit?limit=100"))["events"];
  REQUIRE(events.size() == static_cast<std::size_t>(e.admin_writes));
  CHECK(events[0]["action"] == "token.revoke");
  CHECK(events.back()["action"] == "member.create");
  for (std::size_t i = 1; i < events.size(); ++i)
    CHECK(events[i - 1]["id"].get<id_type>() > events[i]["id"].get<id_type>());
  bool reason_kept = false;
  for (auto& ev : events)
    reason_kept = reason_kept || (ev["action"] == "credits.grant" && ev["detail"]["reason"] == "10-class pack");
  CHECK(reason_kept);

  // Paging with `before`: two events at a time, each page below the last id read, gives back the
  // whole trail once, in order; the ledger pages the same way.
  std::vector<id_type> paged;
  std::string cursor;
  for (int pages = 0; pages < 100; ++pages) {
    auto page = body_of(e.get("audit?limit=2" + cursor))["events"];
    if (page.empty())
      break;
    CHECK(page.size() <= 2);
    for (auto& ev : page)
      paged.push_back(ev["id"].get<id_type>());
    cursor = "&before=" + std::to_string(paged.back());
  }
  std::vector<id_type> whole;
  for (auto& ev : events)
    whole.push_back(ev["id"].get<id_type>());
  CHECK(paged == whole);
  auto older = body_of(e.get("members/" + std::to_string(id) + "/ledger?limit=1&before="
                             + std::to_string(ledger[0]["id"].get<id_type>())))["entries"];
  REQUIRE(older.size() == 1);
  CHECK(older[0] == ledger[1]);
  CHECK(body_of(e.get("members/" + std::to_string(id) + "/ledger?before=1"))["entries"].empty());
  for (auto bad : {"before=0", "before=-1", "before=x", "before=", "before=1&before=2", "before=99999999999999999999",
                   "before=5&before=5", "limit=2&limit=2", "before=5&bef%6Fre=5"}) {
    CHECK_MESSAGE(e.get(std::string("audit?") + bad)->status == 400, bad);
    CHECK_MESSAGE(error_code_of(e.get("members/" + std::to_string(id) + "/ledger?" + bad)) == "invalid_request", bad);
  }
  e.check_invariants();
}

namespace {

/// Runs booking-admin-token with `args`; its exit status and standard output.
std::pair<int, std::string> admin_token_tool(const std::string& args) {
  std::string cmd = std::string(BOOKING_ADMIN_TOKEN_PATH) + " " + args + " 2>/dev/null";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p);
  char buf[512];
  while (auto n = std::fread(buf, 1, sizeof buf, p))
    out.append(buf, n);
  int st = ::pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

} // namespace

TEST_CASE("locked out: the admin revokes its only admin token; booking-admin-token lets the operator back in") {
  env e;
  auto own = e.q("SELECT id FROM api_tokens WHERE user_id = " + std::to_string(e.db.admin) + " AND role = 'admin'");
  REQUIRE(e.post("tokens/" + std::to_string(own) + "/revoke", json::object())->status == 200);
  CHECK(e.get("audit")->status == 401);
  // Tokens the API issues are member tokens, even for the admin's own user: no way back through it.
  auto member_kind = e.cli.Post(("/en/v2/admin/members/" + std::to_string(e.db.admin) + "/tokens").c_str(),
                                bearer(e.tok(1)), "{}", "application/json");
  CHECK(member_kind->status == 403);
  // The operator, beside the running server, by the admin's email in another case.
  auto email = "ADMIN@STUDIO.EXAMPLE";
  REQUIRE(e.q("SELECT count(*) FROM users WHERE lower(email) = 'admin@studio.example'") == 1);
  auto [status, out] = admin_token_tool("--db=" + e.db.path + " --email=" + email);
  REQUIRE(status == 0);
  auto comma = out.rfind(',');
  REQUIRE(out.rfind(std::to_string(e.db.admin) + ",admin,", 0) == 0);
  auto token = out.substr(comma + 1);
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r'))
    token.pop_back();
  auto events = e.cli.Get("/en/v2/admin/audit?limit=1", bearer(token));
  REQUIRE(events->status == 200);
  auto ev = body_of(events)["events"][0];
  CHECK(ev["action"] == "token.issue");
  CHECK(ev["actor_id"].is_null());
  CHECK(ev["detail"]["role"] == "admin");
  // Refusals: nobody with that email (1), no database file, which it never creates (1), no email (2).
  CHECK(admin_token_tool("--db=" + e.db.path + " --email=nobody@studio.example").first == 1);
  auto missing = e.db.path + ".missing";
  CHECK(admin_token_tool("--db=" + missing + " --email=" + email).first == 1);
  CHECK(!std::filesystem::exists(missing));
  CHECK(admin_token_tool("--db=" + e.db.path).first == 2);
  CHECK(admin_token_tool("--db=" + e.db.path + " --email=a --email=b").first == 2);
  CHECK(e.q("SELECT count(*) FROM api_tokens WHERE role = 'admin' AND revoked = 0") == 1);
}

TEST_CASE("admin writes are idempotent: replay, mismatch 422, a remembered 400") {
  env e;
  auto h = e.admin();
  h.emplace("Idempotency-Key", "loc-1");
  auto first = e.post("locations", json{{"name", "Once"}, {"address", "A"}}, h);
  REQUIRE(first->status == 201);
  auto again = e.post("locations", json{{"name", "Once"}, {"address", "A"}}, h);
  CHECK(again->status == 201);
  CHECK(again->body == first->body);
  CHECK(again->get_header_value("Idempotent-Replayed") == "true");
  CHECK(e.q("SELECT count(*) FROM locations WHERE name = 'Once'") == 1);
  auto other = e.post("locations", json{{"name", "Twice"}, {"address", "A"}}, h);
  CHECK(other->status == 422);
  CHECK(error_code_of(other) == "idempotency_mismatch");
  auto hb = e.admin();
  hb.emplace("Idempotency-Key", "bad-1");
  CHECK(e.post("locations", json{{"name", ""}, {"address", "A"}}, hb)->status == 400);
  auto replayed_400 = e.post("locations", json{{"name", ""}, {"address", "A"}}, hb);
  CHECK(replayed_400->status == 400);
  CHECK(replayed_400->get_header_value("Idempotent-Replayed") == "true");
  auto hm = e.admin();
  hm.emplace("Idempotency-Key", "member-1");
  auto m = e.post("members", json{{"name", "Ida"}, {"email", "ida@x.org"}}, hm);
  REQUIRE(m->status == 201);
  auto token = body_of(m)["token"].get<std::string>();
  auto m2 = e.post("members", json{{"name", "Ida"}, {"email", "ida@x.org"}}, hm);
  CHECK(m2->status == 201);
  CHECK(body_of(m2)["token"].is_null()); // shown once, never stored
  CHECK(body_of(m2)["member"] == body_of(m)["member"]);
  CHECK(e.q("SELECT count(*) FROM idempotency_keys WHERE body LIKE '%" + token + "%'") == 0);
  e.check_invariants();
}

TEST_CASE("revocation is effective on the next request while 32 threads keep using other tokens") {
  env e{{"--http-threads=48"}, 60};
  std::vector<std::string> others;
  for (auto& [id, t] : e.db.tokens)
    if (id != e.db.admin && others.size() < 32)
      others.push_back(t);
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0}, served{0};
  std::vector<std::thread> load;
  struct joiner { // a failed REQUIRE below must not leave running threads behind
    std::atomic<bool>& stop;
    std::vector<std::thread>& threads;
    ~joiner() {
      stop = true;
      for (auto& t : threads)
        if (t.joinable())
          t.join();
    }
  } join_on_exit{stop, load};
  for (auto& t : others)
    load.emplace_back([&, t] {
      auto c = e.srv.client();
      while (!stop.load()) {
        auto r = c.Get("/en/v2/training/booking", bearer(t));
        if (!r || r->status != 200)
          ++failures;
        ++served;
        std::this_thread::sleep_for(std::chrono::milliseconds{1});
      }
    });
  int stale = 0;
  for (int round = 0; round < 10; ++round) {
    auto [id, token] = e.member("rev" + std::to_string(round) + "@x.org");
    // Warm the token cache on several connections (several HTTP threads).
    std::vector<httplib::Client> clients;
    for (int k = 0; k < 4; ++k)
      clients.push_back(e.srv.client());
    for (auto& c : clients)
      REQUIRE(c.Get("/en/v2/training/booking", bearer(token))->status == 200);
    auto tid = e.q("SELECT id FROM api_tokens WHERE user_id = " + std::to_string(id));
    if (round % 2 == 0)
      REQUIRE(e.post("tokens/" + std::to_string(tid) + "/revoke", json::object())->status == 200);
    else
      REQUIRE(e.post("members/" + std::to_string(id) + "/deactivate", json::object())->status == 200);
    for (auto& c : clients)
      if (c.Get("/en/v2/training/booking", bearer(token))->status != 401)
        ++stale;
    auto fresh = e.srv.client();
    if (fresh.Get("/en/v2/training/booking", bearer(token))->status != 401)
      ++stale;
  }
  stop = true;
  for (auto& th : load)
    th.join();
  CHECK(stale == 0);
  CHECK(failures == 0);
  CHECK(served > 0);
  e.check_invariants();
}

TEST_CASE("deactivation frees seats and promotes, refunds, withdraws waiting entries, and the token is refused") {
  env e;
  zone tz{"Asia/Taipei"};
  auto sid = body_of(e.post("sessions", json{{"location_id", 1}, {"title", "Full"}, {"coach", "Al"},
                                             {"starts_at", future_instant(tz, 40h)},
                                             {"ends_at", future_instant(tz, 41h)}, {"capacity", 1}}))["id"]
               .get<id_type>();
  auto other = body_of(e.post("sessions", json{{"location_id", 1}, {"title", "Other"}, {"coach", "Al"},
                                               {"starts_at", future_instant(tz, 50h)},
                                               {"ends_at", future_instant(tz, 51h)}, {"capacity", 1}}))["id"]
                 .get<id_type>();
  auto [leaver, lt] = e.member("leaver@x.org", 4);
  auto [waiter, wt] = e.member("waiter@x.org", 4);
  REQUIRE(e.cli.Post("/en/v2/training/bookings", bearer(lt), json{{"session_id", sid}}.dump(), "application/json")->status
          == 201);
  auto full = e.cli.Post("/en/v2/training/bookings", bearer(wt), json{{"session_id", sid}}.dump(), "application/json");
  CHECK(error_code_of(full) == "session_full");
  e.q("INSERT INTO waitlist_entries (session_id, user_id, status, joined_at, updated_at) VALUES (" +
      std::to_string(other) + ", " + std::to_string(leaver) + ", 'waiting', 1, 1)");
  e.q("INSERT INTO waitlist_entries (session_id, user_id, status, joined_at, updated_at) VALUES (" +
      std::to_string(sid) + ", " + std::to_string(waiter) + ", 'waiting', 2, 2)");
  CHECK(body_of(e.cli.Get("/en/v2/training/booking", bearer(lt)))["stats"]["credits_remaining"] == 3);
  CHECK(find_session(body_of(e.cli.Get("/en/v2/training/booking", bearer(wt))), sid).is_null()); // warm, no booking

  auto d = e.post("members/" + std::to_string(leaver) + "/deactivate", json::object());
  REQUIRE(d->status == 200);
  CHECK(body_of(d)["active"] == false);
  CHECK(body_of(d)["credits"] == 4);
  CHECK(e.cli.Get("/en/v2/training/booking", bearer(lt))->status == 401);
  CHECK(e.q("SELECT count(*) FROM bookings WHERE user_id = " + std::to_string(leaver)
            + " AND status = 'cancelled' AND cancelled_by = 'admin' AND credit_refunded = 1")
        == 1);
  CHECK(e.q("SELECT status = 'withdrawn' FROM waitlist_entries WHERE user_id = " + std::to_string(leaver)) == 1);
  // The seat went to the waiting member, who sees it on their next page (their cache was warm).
  CHECK(e.q("SELECT count(*) FROM bookings WHERE session_id = " + std::to_string(sid) + " AND user_id = "
            + std::to_string(waiter) + " AND status = 'booked' AND via_waitlist = 1")
        == 1);
  auto wpage = body_of(e.cli.Get("/en/v2/training/booking", bearer(wt)));
  CHECK(find_session(wpage, sid)["status"] == "booked");
  CHECK(wpage["stats"]["credits_remaining"] == 3);
  CHECK(e.q("SELECT count(*) FROM credit_ledger WHERE reason = 'promotion' AND user_id = " + std::to_string(waiter)) == 1);
  // Admin view of the deactivated member (history kept).
  auto m = body_of(e.get("members/" + std::to_string(leaver)));
  CHECK(m["active"] == false);
  CHECK(e.q("SELECT count(*) FROM bookings WHERE user_id = " + std::to_string(leaver)) == 1);
  CHECK(e.post("members/" + std::to_string(leaver) + "/deactivate", json::object())->status == 200);
  CHECK(e.post("members/" + std::to_string(leaver) + "/tokens", json::object())->status == 400);
  // An admin acting for the deactivated member books and waitlists nothing (403), and no credit moves.
  auto as_leaver = "?user_id=" + std::to_string(leaver);
  auto booked = e.cli.Post(("/en/v2/training/bookings" + as_leaver).c_str(), e.admin(),
                           json{{"session_id", other}}.dump(), "application/json");
  CHECK(booked->status == 403);
  CHECK(error_code_of(booked) == "forbidden");
  CHECK(e.q("SELECT count(*) FROM bookings WHERE user_id = " + std::to_string(leaver)) == 1);
  // An admin acting for an active member is the ledger row's actor.
  auto [helped, ht] = e.member("helped@x.org", 4);
  auto as_helped = "?user_id=" + std::to_string(helped);
  auto hb = e.cli.Post(("/en/v2/training/bookings" + as_helped).c_str(), e.admin(), json{{"session_id", other}}.dump(),
                       "application/json");
  REQUIRE(hb->status == 201);
  CHECK(e.q("SELECT actor_user_id FROM credit_ledger WHERE reason = 'booking' AND user_id = " + std::to_string(helped))
        == e.db.admin);
  auto hc = e.cli.Post(("/en/v2/training/bookings/" + std::to_string(body_of(hb)["id"].get<id_type>()) + "/cancel"
                        + as_helped).c_str(),
                       e.admin(), "{}", "application/json");
  REQUIRE(hc->status == 200);
  CHECK(e.q("SELECT actor_user_id FROM credit_ledger WHERE reason = 'refund' AND user_id = " + std::to_string(helped))
        == e.db.admin);
  e.admin_writes += 2; // writes made for a member are admin writes: one audit row each
  CHECK(e.q("SELECT count(*) FROM audit_events WHERE action IN ('booking.create', 'booking.cancel') AND target_id = "
            + std::to_string(body_of(hb)["id"].get<id_type>()))
        == 2);
  // A member's own booking is their own.
  auto own = e.cli.Post("/en/v2/training/bookings", bearer(ht), json{{"session_id", other}}.dump(), "application/json");
  REQUIRE(own->status == 201);
  CHECK(e.q("SELECT actor_user_id FROM credit_ledger WHERE reason = 'booking' AND user_id = " + std::to_string(helped)
            + " ORDER BY id DESC LIMIT 1")
        == helped);
  CHECK(error_code_of(e.post("members/999999/deactivate", json::object())) == "not_found");
  e.check_invariants();
}

TEST_CASE("every member of an edited session sees the new time on their next page: 20 rounds x 50 members") {
  env e{{"--http-threads=32"}, 12};
  zone tz{"Asia/Taipei"};
  auto base = now_seconds() + 30h;
  auto sid = body_of(e.post("sessions", json{{"location_id", 1}, {"title", "Fan"}, {"coach", "Out"},
                                             {"starts_at", tz.format(base)}, {"ends_at", tz.format(base + 1h)},
                                             {"capacity", 50}}))["id"]
               .get<id_type>();
  std::vector<std::string> tokens;
  for (int i = 0; i < 50; ++i) {
    auto [id, t] = e.member("fan" + std::to_string(i) + "@x.org", 2);
    REQUIRE(e.cli.Post("/en/v2/training/bookings", bearer(t), json{{"session_id", sid}}.dump(), "application/json")
              ->status
            == 201);
    tokens.push_back(t);
  }
  // The page range covers every time the session moves to.
  auto from = format_date(tz.today(now_seconds()));
  auto to = format_date(tz.today(now_seconds()) + date::days{6});
  auto page_path = "/en/v2/training/booking?from=" + from + "&to=" + to;
  std::atomic<int> stale{0}, errors{0};
  auto check_all = [&](const std::string& expected) {
    std::vector<std::thread> th;
    for (int w = 0; w < 8; ++w)
      th.emplace_back([&, w] {
        auto c = e.srv.client();
        for (std::size_t i = static_cast<std::size_t>(w); i < tokens.size(); i += 8) {
          auto r = c.Get(page_path.c_str(), bearer(tokens[i]));
          if (!r || r->status != 200) {
            ++errors;
            continue;
          }
          if (find_session(body_of(r), sid)["session"]["starts_at"] != expected)
            ++stale;
        }
      });
    for (auto& t : th)
      t.join();
  };
  check_all(tz.format(base)); // every cache warm
  for (int round = 1; round <= 20; ++round) {
    auto start = base + std::chrono::minutes{10 * round};
    auto r = e.patch("sessions/" + std::to_string(sid),
                     json{{"starts_at", tz.format(start)}, {"ends_at", tz.format(start + 1h)}});
    REQUIRE(r->status == 200);
    check_all(tz.format(start));
  }
  CHECK(stale == 0);
  CHECK(errors == 0);
  e.check_invariants();
}
