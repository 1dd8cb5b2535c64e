// End-to-end: every route and error code, auth and ownership, languages, idempotency.
#include <doctest/doctest.h>

#include <fstream>

#include "server_fixture.hpp"

using namespace booking;
using namespace booking::test;
using nlohmann::json;

namespace {

struct env {
  seeded_db db;
  server_process srv{db.path};
  httplib::Client cli = srv.client();
  const std::string& tok(id_type u) { return db.tokens.at(u); }
  int credits(id_type u) { return static_cast<int>(db.exec("SELECT credits FROM users WHERE id = " + std::to_string(u))); }
  int bookings_total() { return static_cast<int>(db.exec("SELECT count(*) FROM bookings")); }
};

const char* page_path = "/en/v2/training/booking";

} // namespace

TEST_CASE("booking page: shape, default range, languages, stats over all bookings") {
  env e;
  auto r = e.cli.Get(page_path, bearer(e.tok(1)));
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->get_header_value("Content-Type") == "application/json; charset=utf-8");
  auto j = body_of(r);
  CHECK(j["user"]["id"] == 1);
  CHECK(j["user"].size() == 2);
  auto today = zone{"Asia/Taipei"}.today(now_seconds());
  CHECK(j["range"]["from"] == format_date(monday_of(today)));
  CHECK(j["range"]["to"] == format_date(monday_of(today) + date::days{27}));
  CHECK(j["weeks"].size() == 4);
  for (auto& w : j["weeks"])
    for (auto& b : w["bookings"]) {
      for (auto k : {"id", "status", "state", "state_label", "credit_refunded", "created_at", "updated_at", "session"})
        CHECK(b.contains(k));
      CHECK(b["session"]["starts_at"].get<std::string>().substr(19) == "+08:00");
    }
  for (auto k : {"upcoming", "completed", "cancelled", "leave", "credits_remaining", "leave_quota_remaining"})
    CHECK(j["stats"].contains(k));
  auto all = e.db.exec("SELECT count(*) FROM bookings WHERE user_id = 1");
  auto st = j["stats"];
  CHECK(st["upcoming"].get<int>() + st["completed"].get<int>() + st["cancelled"].get<int>() + st["leave"].get<int>() == all);
  CHECK(j["locations"].size() == 5);

  auto zh = body_of(e.cli.Get("/zh-tw/v2/training/booking?from=2026-01-05&to=2026-01-11", bearer(e.tok(1))));
  CHECK(zh["weeks"].size() == 1);
  CHECK(zh["range"]["from"] == "2026-01-05");
  auto err = e.cli.Get("/zh-tw/v2/training/booking?from=2026-02-30&to=2026-03-01", bearer(e.tok(1)));
  CHECK(err->status == 400);
  CHECK(body_of(err)["error"]["message"] == "請求格式不正確。");
  CHECK(e.cli.Get("/fr/v2/training/booking", bearer(e.tok(1)))->status == 404);
  CHECK(e.cli.Get("/EN/v2/training/booking", bearer(e.tok(1)))->status == 404);
}

TEST_CASE("booking page: bad ranges are 400 invalid_request") {
  env e;
  for (auto q : {"?from=2026-01-01", "?to=2026-01-01", "?from=2026-01-02&to=2026-01-01", "?from=2026-01-01&to=2026-04-03",
                 "?from=2026-1-01&to=2026-01-02", "?from=2025-02-29&to=2025-03-01", "?from=&to=",
                 "?from=2026-01-01&from=2026-01-02&to=2026-01-03", "?from=2026-01-01%00&to=2026-01-02",
                 "?user_id=abc", "?user_id=-1", "?user_id=0",
                 // The same pair twice is still a duplicate (the library keeps one copy of it).
                 "?from=2026-01-05&from=2026-01-05&to=2026-01-11", "?from=2026-01-05&to=2026-01-11&to=2026-01-11",
                 "?from=2026-01-05&%66rom=2026-01-05&to=2026-01-11", "?user_id=1&user_id=1"}) {
    auto r = e.cli.Get(std::string(page_path) + q, bearer(e.tok(1)));
    INFO(q);
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(error_code_of(r) == "invalid_request");
  }
  CHECK(e.cli.Get(std::string(page_path) + "?from=2026-01-01&to=2026-04-02", bearer(e.tok(1)))->status == 200);
}

TEST_CASE("auth and ownership matrix, with no state change on refusal") {
  env e;
  auto s = e.db.add_session(48, 10);
  e.db.set_user(2, 5, 2);
  auto booked = body_of(e.cli.Post("/en/v2/training/bookings", bearer(e.tok(2)), json{{"session_id", s}}.dump(),
                                   "application/json"));
  auto bid = booked["id"].get<id_type>();
  auto before = e.bookings_total();
  auto cancel = "/en/v2/training/bookings/" + std::to_string(bid) + "/cancel";

  // No token, bad token, malformed header.
  CHECK(e.cli.Get(page_path)->status == 401);
  CHECK(e.cli.Get(page_path, bearer("nope"))->status == 401);
  CHECK(e.cli.Get(page_path, httplib::Headers{{"Authorization", "Basic abc"}})->status == 401);
  CHECK(e.cli.Get(page_path, httplib::Headers{{"Authorization", "Bearer "}})->status == 401);
  CHECK(e.cli.Post(cancel, "", "application/json")->status == 401);
  CHECK(e.cli.Post(cancel, bearer("tb_0000"), "", "application/json")->status == 401);
  CHECK(error_code_of(e.cli.Get("/en/v2/training/locations")) == "unauthorized");
  CHECK(e.cli.Get("/en/v2/training/sessions?location_id=1")->status == 401);
  // Another member: their booking does not exist for me; naming them is forbidden.
  auto other = e.cli.Post(cancel, bearer(e.tok(3)), "", "application/json");
  CHECK(other->status == 404);
  CHECK(error_code_of(other) == "not_found");
  CHECK(e.cli.Post("/en/v2/training/bookings/" + std::to_string(bid) + "/leave", bearer(e.tok(3)), "{}",
                   "application/json")->status == 404);
  CHECK(e.cli.Get(std::string(page_path) + "?user_id=2", bearer(e.tok(3)))->status == 403);
  CHECK(e.cli.Post(cancel + "?user_id=2", bearer(e.tok(3)), "", "application/json")->status == 403);
  CHECK(e.cli.Get(std::string(page_path) + "?user_id=3", bearer(e.tok(3)))->status == 200); // myself
  CHECK(e.bookings_total() == before);
  CHECK(e.db.exec("SELECT status = 'booked' FROM bookings WHERE id = " + std::to_string(bid)) == 1);
  // Admin acts for the member.
  auto admin_page = e.cli.Get(std::string(page_path) + "?user_id=2", bearer(e.tok(e.db.admin)));
  CHECK(admin_page->status == 200);
  CHECK(body_of(admin_page)["user"]["id"] == 2);
  CHECK(e.cli.Get(std::string(page_path) + "?user_id=99999", bearer(e.tok(e.db.admin)))->status == 404);
  auto by_admin = e.cli.Post(cancel + "?user_id=2", bearer(e.tok(e.db.admin)), "", "application/json");
  CHECK(by_admin->status == 200);
  CHECK(body_of(by_admin)["status"] == "cancelled");
  // A revoked token stops working once its cache entry expires; a fresh server sees it at once.
  e.db.exec("UPDATE api_tokens SET revoked = 1 WHERE user_id = 4");
  server_process fresh{e.db.path};
  CHECK(fresh.client().Get(page_path, bearer(e.tok(4)))->status == 401);
}

TEST_CASE("book, cancel, leave: effects and every business error") {
  env e;
  auto post = [&](id_type u, const std::string& path, const std::string& body) {
    return e.cli.Post(path, bearer(e.tok(u)), body, "application/json");
  };
  auto book = [&](id_type u, id_type s) { return post(u, "/en/v2/training/bookings", json{{"session_id", s}}.dump()); };
  e.db.set_user(5, 2, 1);
  auto far = e.db.add_session(48, 1), near = e.db.add_session(2, 5), past = e.db.add_session(-2, 5);

  auto r = book(5, far);
  REQUIRE(r->status == 201);
  auto b = body_of(r);
  CHECK(b["status"] == "booked");
  CHECK(b["state"] == "upcoming");
  CHECK(b["session"]["id"] == far);
  CHECK(e.credits(5) == 1);
  CHECK(error_code_of(book(5, far)) == "already_booked");
  e.db.set_user(6, 3, 1);
  auto full = book(6, far);
  CHECK(full->status == 409);
  CHECK(error_code_of(full) == "session_full");
  CHECK(error_code_of(book(6, past)) == "session_closed");
  CHECK(error_code_of(book(6, 99999999)) == "not_found");
  e.db.set_user(7, 0, 1);
  CHECK(error_code_of(book(7, near)) == "insufficient_credits");

  // Cancel 48 h ahead: refunded.
  auto id = b["id"].get<id_type>();
  auto c = post(5, "/en/v2/training/bookings/" + std::to_string(id) + "/cancel", "");
  REQUIRE(c->status == 200);
  CHECK(body_of(c)["credit_refunded"] == true);
  CHECK(body_of(c)["status"] == "cancelled");
  CHECK(e.credits(5) == 2);
  CHECK(error_code_of(post(5, "/en/v2/training/bookings/" + std::to_string(id) + "/cancel", "")) == "not_cancellable");
  // Cancel 2 h ahead: no refund.
  auto n = body_of(book(5, near))["id"].get<id_type>();
  auto c2 = post(5, "/en/v2/training/bookings/" + std::to_string(n) + "/cancel", "");
  CHECK(body_of(c2)["credit_refunded"] == false);
  CHECK(e.credits(5) == 1);
  // Leave: reason kept, credit back, quota down; the second leave has no quota.
  auto l1 = body_of(book(5, far))["id"].get<id_type>();
  auto lv = post(5, "/en/v2/training/bookings/" + std::to_string(l1) + "/leave", json{{"reason", "出差"}}.dump());
  REQUIRE(lv->status == 200);
  CHECK(body_of(lv)["status"] == "leave");
  CHECK(body_of(lv)["leave_reason"] == "出差");
  CHECK(body_of(lv)["credit_refunded"] == true);
  CHECK(e.credits(5) == 1);
  auto l2 = body_of(book(5, near))["id"].get<id_type>();
  CHECK(error_code_of(post(5, "/en/v2/training/bookings/" + std::to_string(l2) + "/leave", "")) ==
        "insufficient_leave_quota");
  CHECK(error_code_of(post(5, "/en/v2/training/bookings/" + std::to_string(l1) + "/leave", "")) == "not_cancellable");
  // A booking whose session started is closed.
  auto started = e.db.exec("SELECT b.id FROM bookings b JOIN sessions s ON s.id = b.session_id WHERE b.user_id = 8 AND "
                           "b.status = 'booked' AND s.starts_at < strftime('%s','now') LIMIT 1");
  if (started)
    CHECK(error_code_of(post(8, "/en/v2/training/bookings/" + std::to_string(started) + "/cancel", "")) ==
          "session_closed");
  // The page shows the writes at once.
  auto page = body_of(e.cli.Get(page_path, bearer(e.tok(5))));
  CHECK(page["stats"]["credits_remaining"] == 0);
  CHECK(page["stats"]["leave_quota_remaining"] == 0);
}

TEST_CASE("write bodies and ids: 400 invalid_request") {
  env e;
  auto post = [&](const std::string& path, const std::string& body) {
    return e.cli.Post(path, bearer(e.tok(1)), body, "application/json");
  };
  for (auto body : {"", "{", "[]", "null", "{\"session_id\": \"1\"}", "{\"session_id\": 1.5}", "{\"session_id\": -3}",
                    "{\"session_id\": 0}", "{\"session_id\": true}", "{\"sessionid\": 1}", "\"x\""}) {
    INFO(body);
    auto r = post("/en/v2/training/bookings", body);
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(error_code_of(r) == "invalid_request");
  }
  for (auto id : {"abc", "0", "-1", "1e3", "99999999999999999999", "01"}) {
    INFO(id);
    CHECK(post(std::string("/en/v2/training/bookings/") + id + "/cancel", "")->status == 400);
  }
  // The largest id is one that does not exist; one past it is not an id, as in a body.
  for (auto id : {"9223372036854775807", "1000000000000000000"}) {
    INFO(id);
    CHECK(post(std::string("/en/v2/training/bookings/") + id + "/cancel", "")->status == 404);
  }
  CHECK(post("/en/v2/training/bookings/9223372036854775808/cancel", "")->status == 400);
  CHECK(post("/en/v2/training/bookings", "{\"session_id\": 9223372036854775807}")->status == 404);
  CHECK(post("/en/v2/training/bookings", "{\"session_id\": 9223372036854775808}")->status == 400);
  auto long_reason = json{{"reason", std::string(501, 'x')}}.dump();
  CHECK(post("/en/v2/training/bookings/1/leave", long_reason)->status == 400);
  CHECK(post("/en/v2/training/bookings/1/leave", "{\"reason\": 5}")->status == 400);
  CHECK(post("/en/v2/training/bookings/1/leave", "{\"reason\": \"\xff\xfe\"}")->status == 400);
  CHECK(e.bookings_total() == e.bookings_total());
}

TEST_CASE("idempotent replay and mismatch") {
  env e;
  auto s = e.db.add_session(48, 10);
  e.db.set_user(9, 5, 1);
  httplib::Headers h = bearer(e.tok(9));
  h.emplace("Idempotency-Key", "retry-42");
  auto body = json{{"session_id", s}}.dump();
  auto first = e.cli.Post("/en/v2/training/bookings", h, body, "application/json");
  REQUIRE(first->status == 201);
  auto again = e.cli.Post("/zh-tw/v2/training/bookings", h, body, "application/json");
  CHECK(again->status == 201);
  CHECK(again->body == first->body);
  CHECK(again->get_header_value("Idempotent-Replayed") == "true");
  CHECK(e.credits(9) == 4);
  CHECK(e.db.exec("SELECT count(*) FROM bookings WHERE user_id = 9 AND session_id = " + std::to_string(s)) == 1);
  auto other = e.cli.Post("/en/v2/training/bookings", h, json{{"session_id", s + 0}, {"x", 1}}.dump(), "application/json");
  CHECK(other->status == 422);
  CHECK(error_code_of(other) == "idempotency_mismatch");
  // A business failure is replayed as it was.
  httplib::Headers h2 = bearer(e.tok(9));
  h2.emplace("Idempotency-Key", "retry-43");
  auto dup = e.cli.Post("/en/v2/training/bookings", h2, body, "application/json");
  CHECK(dup->status == 409);
  CHECK(e.cli.Post("/en/v2/training/bookings", h2, body, "application/json")->body == dup->body);
  // Another user with the same key is independent.
  e.db.set_user(10, 5, 1);
  httplib::Headers h3 = bearer(e.tok(10));
  h3.emplace("Idempotency-Key", "retry-42");
  CHECK(e.cli.Post("/en/v2/training/bookings", h3, body, "application/json")->status == 201);
  // Bad keys.
  httplib::Headers bad = bearer(e.tok(9));
  bad.emplace("Idempotency-Key", std::string(65, 'k'));
  CHECK(e.cli.Post("/en/v2/training/bookings", bad, body, "application/json")->status == 400);
}

TEST_CASE("sessions and locations routes") {
  env e;
  auto s = e.db.add_session(30, 7);
  auto today = zone{"Asia/Taipei"}.today(now_seconds());
  auto q = "/en/v2/training/sessions?location_id=1&from=" + format_date(today) + "&to=" + format_date(today + date::days{3});
  auto r = e.cli.Get(q, bearer(e.tok(1)));
  REQUIRE(r->status == 200);
  bool found = false;
  auto list = body_of(r);
  for (auto& x : list["sessions"])
    if (x["id"] == s) {
      found = true;
      CHECK(x["seats_left"] == 7);
      CHECK(x["capacity"] == 7);
      for (auto k : {"title", "coach", "location_id", "starts_at", "ends_at"})
        CHECK(x.contains(k));
    }
  CHECK(found);
  CHECK(e.cli.Get("/en/v2/training/sessions", bearer(e.tok(1)))->status == 400);
  CHECK(e.cli.Get("/en/v2/training/sessions?location_id=x", bearer(e.tok(1)))->status == 400);
  CHECK(e.cli.Get("/en/v2/training/sessions?location_id=1&location_id=1", bearer(e.tok(1)))->status == 400);
  CHECK(e.cli.Get("/debug/traces?limit=1&limit=1")->status == 400);
  CHECK(e.cli.Get("/en/v2/training/sessions?location_id=999", bearer(e.tok(1)))->status == 404);
  auto locs = body_of(e.cli.Get("/zh-tw/v2/training/locations", bearer(e.tok(1))));
  CHECK(locs["locations"].size() == 5);
}

TEST_CASE("ops endpoints: health, readiness, metrics without personal data") {
  env e;
  CHECK(e.cli.Get("/healthz")->status == 200);
  CHECK(e.cli.Get("/readyz")->status == 200);
  e.cli.Get(page_path, bearer(e.tok(1)));
  auto m = e.cli.Get("/metrics");
  REQUIRE(m->status == 200);
  for (auto fam : {"booking_http_requests_total", "booking_http_request_duration_seconds", "booking_store_loads_total",
                   "booking_cache_requests_total", "booking_invalidations_total", "booking_invalidation_queue_depth",
                   "booking_user_actors", "booking_inflight_requests", "booking_rejected_requests_total"})
    CHECK(m->body.find(std::string("# TYPE ") + fam) != std::string::npos);
  CHECK(m->body.find("booking_store_loads_total{kind=\"user_page\"} 1") != std::string::npos);
  CHECK(m->body.find("user_id") == std::string::npos);
  CHECK(m->body.find("@studio") == std::string::npos);
  CHECK(e.cli.Get("/nope")->status == 404);
  CHECK(error_code_of(e.cli.Get("/nope")) == "not_found");
}

TEST_CASE("the same keys come from a config file (--config-file, INI [booking] section)") {
  seeded_db db{5};
  temp_dir dir;
  auto ini = dir.file("booking.ini");
  {
    std::ofstream f{ini};
    f << "[booking]\nrate-limit-per-second=1.0\nrate-limit-burst=1.0\ncancel-window-hours=48\n";
  }
  server_process srv{db.path, {"--config-file=" + ini}};
  auto cli = srv.client();
  CHECK(cli.Get(page_path, bearer(db.tokens.at(1)))->status == 200);
  CHECK(cli.Get(page_path, bearer(db.tokens.at(1)))->status == 429); // burst of 1 from the file
  // A flag on the command line wins over the file.
  server_process flag{db.path, {"--config-file=" + ini, "--rate-limit-burst=5"}};
  auto c2 = flag.client();
  for (int i = 0; i < 3; ++i)
    CHECK(c2.Get(page_path, bearer(db.tokens.at(2)))->status == 200);
}

TEST_CASE("a config file may hold its keys at the top, under [global], in a group, quoted or not") {
  seeded_db db{5};
  temp_dir dir;
  const char* forms[] = {
    "# top level, quoted\ndb=\"%DB%\"\nrate-limit-burst=1\nrate-limit-per-second=1.0\n",
    "[global]\ndb = %DB%   ; a comment\nrate-limit-burst = 1\nrate-limit-per-second = 1.0\n",
    "booking {\n  db = '%DB%'\n  rate-limit-burst = 1\n  rate-limit-per-second = 1.0\n}\n",
  };
  int k = 0;
  for (std::string text : forms) {
    CAPTURE(text);
    text.replace(text.find("%DB%"), 4, db.path);
    auto ini = dir.file("f" + std::to_string(k++) + ".ini");
    std::ofstream{ini} << text;
    // No --db on the command line: the file's is used.
    server_process srv{"", {"--config-file=" + ini}};
    auto cli = srv.client();
    CHECK(cli.Get(page_path, bearer(db.tokens.at(1)))->status == 200);
    CHECK(cli.Get(page_path, bearer(db.tokens.at(1)))->status == 429);
  }
  // A file that cannot be read is a clear start-up error.
  auto err = dir.file("err.log");
  auto cmd = std::string("timeout 20 ") + BOOKING_SERVER_PATH + " --port=0 --config-file=" + dir.file("missing.ini")
             + " >/dev/null 2>" + err;
  CHECK(std::system(cmd.c_str()) != 0);
  std::ifstream in{err};
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  INFO("stderr: " << text);
  CHECK(text.find("cannot read config file") != std::string::npos);
  // --port is required (SPEC §6), like --db; from the config file as from a flag.
  {
    auto none = dir.file("none.db");
    auto c = std::string("timeout 20 ") + BOOKING_SERVER_PATH + " --db=" + none + " >/dev/null 2>" + err;
    CHECK(WEXITSTATUS(std::system(c.c_str())) == 2);
    std::ifstream e2{err};
    std::string t2((std::istreambuf_iterator<char>(e2)), std::istreambuf_iterator<char>());
    CHECK(t2.find("--port=N is required") != std::string::npos);
    CHECK(!std::filesystem::exists(none)); // refused before the database is created
    auto with_port = dir.file("port.ini");
    std::ofstream{with_port} << "db=" << none << "\nport=0\n";
    c = std::string("timeout 3 ") + BOOKING_SERVER_PATH + " --config-file=" + with_port + " >/dev/null 2>" + err;
    std::system(c.c_str());
    std::ifstream e3{err};
    std::string t3((std::istreambuf_iterator<char>(e3)), std::istreambuf_iterator<char>());
    CHECK(t3.find("msg=listening") != std::string::npos);
    // A port is decimal (CAF's reader took 0124000 as octal, 0x4000 as hex); nothing is left over.
    for (std::string bad : {"--port=0124000", "--port=0x4000", "--port=-1", "--port=", "--port=0 extra"}) {
      INFO(bad);
      auto never = dir.file("never.db");
      c = std::string("timeout 20 ") + BOOKING_SERVER_PATH + " --db=" + never + " " + bad + " >/dev/null 2>" + err;
      CHECK(WEXITSTATUS(std::system(c.c_str())) == 2);
      CHECK(!std::filesystem::exists(never));
    }
    // Only --config-file is read: CAF's default file in the working directory is not.
    std::ofstream{dir.file("caf-application.ini")} << "booking {\n  port = 0\n}\n";
    c = "cd " + dir.file("") + " && timeout 20 " + BOOKING_SERVER_PATH + " --db=" + none + " >/dev/null 2>" + err;
    CHECK(WEXITSTATUS(std::system(c.c_str())) == 2);
    std::ifstream e4{err};
    std::string t4((std::istreambuf_iterator<char>(e4)), std::istreambuf_iterator<char>());
    CHECK(t4.find("--port=N is required") != std::string::npos);
  }
  // A sampling rate outside [0, 1] is refused at start-up, from a file as from a flag.
  auto bad = dir.file("bad.ini");
  std::ofstream{bad} << "db=" << db.path << "\ntrace-sample-rate=2\n";
  for (auto flag : {"--config-file=" + bad, "--db=" + db.path + " --trace-sample-rate=-0.5"}) {
    auto c = std::string("timeout 20 ") + BOOKING_SERVER_PATH + " --port=0 " + flag + " >/dev/null 2>" + err;
    CHECK(std::system(c.c_str()) != 0);
    std::ifstream e2{err};
    std::string t2((std::istreambuf_iterator<char>(e2)), std::istreambuf_iterator<char>());
    CHECK(t2.find("--trace-sample-rate must be between 0 and 1") != std::string::npos);
  }
}
