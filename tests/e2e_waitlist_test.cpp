// End-to-end: the waitlist routes against a real server process — join and withdraw, every refusal in
// both languages, idempotency, admins acting for members, and promotion seen on the promoted member's
// next page (SPEC §5.9) even when that page was cached before the write.
#include <doctest/doctest.h>

#include "server_fixture.hpp"

using namespace booking;
using namespace booking::test;
using nlohmann::json;

namespace {

struct env {
  seeded_db db;
  server_process srv;
  httplib::Client cli = srv.client();

  explicit env(std::vector<std::string> extra = {}) : srv{db.path, std::move(extra)} {}

  const std::string& tok(id_type u) { return db.tokens.at(u); }
  int credits(id_type u) { return static_cast<int>(db.exec("SELECT credits FROM users WHERE id = " + std::to_string(u))); }
  /// Sets a member's credits (and at least one leave) with the ledger row that keeps credits = sum(delta).
  void set_credits(id_type u, int to) {
    auto id = std::to_string(u), delta = std::to_string(to - credits(u));
    db.exec("UPDATE users SET credits = " + std::to_string(to) + ", leave_quota = max(leave_quota, 1) WHERE id = " + id);
    db.exec("INSERT INTO credit_ledger (user_id, delta, balance_after, reason, created_at) VALUES (" + id + ", " + delta
            + ", " + std::to_string(to) + ", 'adjustment', 0)");
  }

  httplib::Result join(id_type user, id_type session, const std::string& lang = "en", const std::string& query = "",
                       httplib::Headers extra = {}) {
    auto h = bearer(tok(user));
    h.insert(extra.begin(), extra.end());
    return cli.Post("/" + lang + "/v2/training/sessions/" + std::to_string(session) + "/waitlist" + query, h, "",
                    "application/json");
  }
  httplib::Result withdraw(id_type user, id_type entry, const std::string& lang = "en", const std::string& query = "",
                           httplib::Headers extra = {}) {
    auto h = bearer(tok(user));
    h.insert(extra.begin(), extra.end());
    return cli.Post("/" + lang + "/v2/training/waitlist/" + std::to_string(entry) + "/withdraw" + query, h, "",
                    "application/json");
  }
  id_type book(id_type user, id_type session) {
    auto r = cli.Post("/en/v2/training/bookings", bearer(tok(user)), json{{"session_id", session}}.dump(),
                      "application/json");
    REQUIRE(r);
    REQUIRE(r->status == 201);
    return body_of(r)["id"].get<id_type>();
  }
  /// A session of one seat that member 2 holds (the booking's id is returned), member 3 waiting.
  id_type full_session_with_waiter() {
    auto s = db.add_session(48, 1);
    set_credits(2, 3);
    set_credits(3, 3);
    auto b = book(2, s);
    REQUIRE(join(3, s)->status == 201);
    return b;
  }
  json page(id_type user, const std::string& lang = "en") {
    auto r = cli.Get("/" + lang + "/v2/training/booking", bearer(tok(user)));
    REQUIRE(r);
    REQUIRE(r->status == 200);
    return body_of(r);
  }
  /// The user's waitlist entry for the session on their page, or null.
  json entry_on_page(id_type user, id_type session) {
    auto p = page(user); // kept alive while iterating
    for (auto& e : p["waitlist"])
      if (e["session"]["id"] == session)
        return e;
    return nullptr;
  }
  /// The booking of the session on the user's page, or null.
  json booking_on_page(id_type user, id_type session) {
    auto p = page(user);
    for (auto& w : p["weeks"])
      for (auto& b : w["bookings"])
        if (b["session"]["id"] == session)
          return b;
    return nullptr;
  }
  double metric(const std::string& series) {
    auto r = cli.Get("/metrics");
    REQUIRE(r);
    auto p = r->body.find(series + " ");
    return p == std::string::npos ? -1 : std::stod(r->body.substr(p + series.size() + 1));
  }
  int ledger_violations() {
    return static_cast<int>(db.exec("SELECT count(*) FROM users u WHERE credits != (SELECT coalesce(sum(delta), 0) "
                                    "FROM credit_ledger l WHERE l.user_id = u.id)"));
  }
};

} // namespace

TEST_CASE("waitlist: join, page, sessions list and withdraw") {
  env e;
  auto s = e.db.add_session(48, 1);
  for (id_type u : {2, 3, 4})
    e.set_credits(u, 5);
  e.book(2, s);
  auto before = e.credits(3);

  auto r = e.join(3, s);
  REQUIRE(r);
  CHECK(r->status == 201);
  CHECK(r->get_header_value("Content-Type") == "application/json; charset=utf-8");
  auto j = body_of(r);
  for (auto k : {"id", "status", "state", "position", "joined_at", "session"})
    CHECK(j.contains(k));
  CHECK(j["status"] == "waiting");
  CHECK(j["state"] == "waiting");
  CHECK(j["position"] == 1);
  CHECK(j["joined_at"].get<std::string>().substr(19) == "+08:00");
  CHECK(j["session"]["id"] == s);
  CHECK(j["session"]["status"] == "scheduled");
  CHECK(j["session"]["title"] == "Race");
  CHECK(e.credits(3) == before); // nothing charged
  auto first = j["id"].get<id_type>();

  auto zh = e.join(4, s, "zh-tw");
  REQUIRE(zh);
  CHECK(zh->status == 201);
  CHECK(body_of(zh)["position"] == 2);
  CHECK(body_of(zh)["state_label"] == "候補中");
  auto second = body_of(zh)["id"].get<id_type>();

  auto mine = e.entry_on_page(4, s);
  REQUIRE(mine.is_object());
  CHECK(mine["id"] == second);
  CHECK(mine["position"] == 2);
  CHECK(mine["state"] == "waiting");

  auto list = body_of(e.cli.Get("/en/v2/training/sessions?location_id=1", bearer(e.tok(3))));
  bool seen = false;
  for (auto& v : list["sessions"])
    if (v["id"] == s) {
      seen = true;
      CHECK(v["status"] == "scheduled");
      CHECK(v["waitlist_capacity"] == 10);
      CHECK(v["waitlist_length"] == 2);
      CHECK(v["seats_left"] == 0);
    }
  CHECK(seen);

  auto w = e.withdraw(3, first);
  REQUIRE(w);
  CHECK(w->status == 200);
  CHECK(body_of(w)["status"] == "withdrawn");
  CHECK(body_of(w)["position"].is_null());
  CHECK(body_of(w)["id"] == first);
  CHECK(e.entry_on_page(3, s).is_null());
  CHECK(e.entry_on_page(4, s)["position"] == 1); // the member behind moved up, although their page was cached

  auto again = e.withdraw(3, first);
  CHECK(again->status == 409);
  CHECK(error_code_of(again) == "not_withdrawable");
  CHECK(body_of(e.withdraw(3, first, "zh-tw"))["error"]["message"] == "此候補已不在等候中，無法取消。");
  // Joining again after withdrawing is allowed, at the end of the line.
  auto rejoin = e.join(3, s);
  CHECK(rejoin->status == 201);
  CHECK(body_of(rejoin)["position"] == 2);
}

TEST_CASE("waitlist: every refusal, in both languages, and nothing changes") {
  env e;
  auto full = e.db.add_session(48, 1), open = e.db.add_session(48, 5), soon = e.db.add_session(10, 1),
       small = e.db.add_session(48, 1);
  e.db.exec("UPDATE sessions SET waitlist_capacity = 1 WHERE id = " + std::to_string(small));
  for (id_type u : {2, 3, 4, 5, 6})
    e.set_credits(u, 5);
  e.book(2, full);
  e.book(2, soon);
  e.book(2, small);
  auto entries = [&] { return e.db.exec("SELECT count(*) FROM waitlist_entries"); };

  struct refusal {
    httplib::Result r;
    int status;
    const char* code;
    const char* message_zh; // checked when the request was in zh-tw
  };
  auto check = [](const refusal& x) {
    REQUIRE(x.r);
    CHECK(x.r->status == x.status);
    CHECK(error_code_of(x.r) == x.code);
    if (x.message_zh)
      CHECK(body_of(x.r)["error"]["message"] == x.message_zh);
  };
  auto before = entries();
  check({e.join(3, 987654), 404, "not_found", nullptr});
  check({e.join(3, 987654, "zh-tw"), 404, "not_found", "找不到資源。"});
  check({e.join(3, soon), 409, "session_closed", nullptr}); // 10 h ahead: past the 14 h cut-off
  check({e.join(3, soon, "zh-tw"), 409, "session_closed", "此課程已關閉：已開始、已取消，或候補已截止。"});
  check({e.join(2, full), 409, "already_booked", nullptr});
  check({e.join(3, open), 409, "session_has_space", nullptr});
  check({e.join(3, open, "zh-tw"), 409, "session_has_space", "此課程尚有名額，請直接預約。"});
  REQUIRE(e.join(3, small)->status == 201);
  REQUIRE(e.join(3, full)->status == 201);
  before += 2;
  check({e.join(3, full), 409, "already_waitlisted", nullptr});
  check({e.join(3, full, "zh-tw"), 409, "already_waitlisted", "您已在此課程的候補名單中。"});
  check({e.join(4, small), 409, "waitlist_full", nullptr});
  check({e.join(4, small, "zh-tw"), 409, "waitlist_full", "此課程的候補名單已滿。"});
  e.set_credits(5, 0);
  check({e.join(5, full), 409, "insufficient_credits", nullptr});
  check({e.join(5, full, "zh-tw"), 409, "insufficient_credits", "點數不足。"});
  e.db.exec("UPDATE sessions SET status = 'cancelled' WHERE id = " + std::to_string(open));
  check({e.join(3, open), 409, "session_closed", nullptr}); // cancelled by the studio
  auto cancelled_book = e.cli.Post("/en/v2/training/bookings", bearer(e.tok(6)), json{{"session_id", open}}.dump(),
                                   "application/json");
  check({std::move(cancelled_book), 409, "session_closed", nullptr});
  // Bad ids, bad bodies, no token, another member.
  auto bad = e.cli.Post("/en/v2/training/sessions/abc/waitlist", bearer(e.tok(3)), "", "application/json");
  check({std::move(bad), 400, "invalid_request", nullptr});
  check({e.cli.Post("/en/v2/training/sessions/0/waitlist", bearer(e.tok(3)), "", "application/json"), 400,
         "invalid_request", nullptr});
  check({e.cli.Post("/en/v2/training/waitlist/-3/withdraw", bearer(e.tok(3)), "", "application/json"), 400,
         "invalid_request", nullptr});
  check({e.cli.Post("/zh-tw/v2/training/sessions/" + std::to_string(full) + "/waitlist", bearer(e.tok(4)), "[1,",
                    "application/json"),
         400, "invalid_request", "請求格式不正確。"});
  check({e.cli.Post("/en/v2/training/sessions/" + std::to_string(full) + "/waitlist", "", "application/json"), 401,
         "unauthorized", nullptr});
  CHECK(e.cli.Post("/fr/v2/training/sessions/" + std::to_string(full) + "/waitlist", bearer(e.tok(3)), "",
                   "application/json")->status == 404);
  check({e.join(4, full, "en", "?user_id=3"), 403, "forbidden", nullptr});
  auto theirs = e.db.exec("SELECT id FROM waitlist_entries WHERE user_id = 3 AND session_id = " + std::to_string(full));
  check({e.withdraw(4, theirs), 404, "not_found", nullptr}); // another member's entry does not exist for me
  check({e.withdraw(4, theirs, "zh-tw"), 404, "not_found", "找不到資源。"});
  check({e.withdraw(4, 987654), 404, "not_found", nullptr});
  CHECK(entries() == before);
  CHECK(e.db.exec("SELECT count(*) FROM waitlist_entries WHERE status != 'waiting' AND session_id IN ("
                  + std::to_string(full) + ", " + std::to_string(small) + ")")
        == 0);

  // An admin acts for members; naming a user that does not exist is 404.
  auto admin = e.db.admin;
  auto by_admin = e.join(admin, full, "en", "?user_id=4");
  CHECK(by_admin->status == 201);
  CHECK(body_of(by_admin)["position"] == 2);
  CHECK(e.db.exec("SELECT count(*) FROM waitlist_entries WHERE user_id = 4 AND session_id = " + std::to_string(full))
        == 1);
  check({e.join(admin, full, "en", "?user_id=99999"), 404, "not_found", nullptr});
  check({e.withdraw(admin, theirs, "en", "?user_id=99999"), 404, "not_found", nullptr});
  auto w = e.withdraw(admin, theirs, "en", "?user_id=3");
  CHECK(w->status == 200);
  CHECK(body_of(w)["status"] == "withdrawn");
  CHECK(e.ledger_violations() == 0);
}

TEST_CASE("waitlist: Idempotency-Key replays join and withdraw") {
  env e;
  auto s = e.db.add_session(48, 1);
  e.set_credits(2, 5);
  e.set_credits(3, 5);
  e.book(2, s);
  httplib::Headers key{{"Idempotency-Key", "join-once"}};
  auto a = e.join(3, s, "en", "", key);
  REQUIRE(a);
  CHECK(a->status == 201);
  auto b = e.join(3, s, "zh-tw", "", key); // the language prefix is not part of the request
  REQUIRE(b);
  CHECK(b->status == 201);
  CHECK(b->body == a->body);
  CHECK(b->get_header_value("Idempotent-Replayed") == "true");
  CHECK(e.db.exec("SELECT count(*) FROM waitlist_entries WHERE user_id = 3 AND session_id = " + std::to_string(s))
        == 1);
  auto other = e.db.add_session(48, 1);
  auto mismatch = e.join(3, other, "en", "", key);
  CHECK(mismatch->status == 422);
  CHECK(error_code_of(mismatch) == "idempotency_mismatch");

  auto entry = body_of(a)["id"].get<id_type>();
  httplib::Headers wkey{{"Idempotency-Key", "withdraw-once"}};
  auto w1 = e.withdraw(3, entry, "en", "", wkey);
  auto w2 = e.withdraw(3, entry, "en", "", wkey);
  CHECK(w1->status == 200);
  CHECK(w2->status == 200); // not 409 not_withdrawable: the first answer is replayed
  CHECK(w2->body == w1->body);
  // A refusal is replayed too.
  httplib::Headers rkey{{"Idempotency-Key", "refused"}};
  auto r1 = e.join(2, s, "en", "", rkey);
  CHECK(r1->status == 409);
  auto r2 = e.join(2, s, "en", "", rkey);
  CHECK(r2->status == 409);
  CHECK(r2->get_header_value("Idempotent-Replayed") == "true");
}

TEST_CASE("waitlist: a cancel promotes the next member, whose cached page shows the booking at once") {
  env e;
  auto s = e.db.add_session(48, 2);
  for (id_type u : {2, 3, 4, 5, 6})
    e.set_credits(u, 3);
  auto b2 = e.book(2, s);
  auto b3 = e.book(3, s);
  REQUIRE(e.join(4, s)->status == 201); // will run out of credits: skipped
  REQUIRE(e.join(5, s)->status == 201);
  REQUIRE(e.join(6, s)->status == 201);
  e.set_credits(4, 0);
  // Warm every page first: promotion must reach caches, not only the store.
  for (id_type u : {4, 5, 6})
    CHECK(e.entry_on_page(u, s).is_object());
  CHECK(e.entry_on_page(6, s)["position"] == 3);
  auto promoted_before = e.metric("booking_waitlist_promotions_total{result=\"promoted\"}");
  auto skipped_before = e.metric("booking_waitlist_promotions_total{result=\"skipped\"}");
  CHECK(promoted_before >= 0);

  auto c = e.cli.Post("/en/v2/training/bookings/" + std::to_string(b2) + "/cancel", bearer(e.tok(2)), "",
                      "application/json");
  REQUIRE(c);
  CHECK(c->status == 200);
  CHECK(body_of(c)["cancelled_by"] == "member");
  // Member 5 was promoted: the very next page shows the booking, charged once.
  auto pb = e.booking_on_page(5, s);
  REQUIRE(pb.is_object());
  CHECK(pb["status"] == "booked");
  CHECK(pb["state"] == "upcoming");
  CHECK(pb["via_waitlist"] == true);
  CHECK(pb["cancelled_by"].is_null());
  CHECK(e.entry_on_page(5, s).is_null());
  CHECK(e.page(5)["stats"]["credits_remaining"] == 2);
  CHECK(e.db.exec("SELECT count(*) FROM credit_ledger WHERE user_id = 5 AND reason = 'promotion'") == 1);
  // Member 4 was skipped (no credits): their entry is gone from their page; member 6 moved up.
  CHECK(e.entry_on_page(4, s).is_null());
  CHECK(e.db.exec("SELECT skip_reason = 'insufficient_credits' FROM waitlist_entries WHERE user_id = 4 AND "
                  "session_id = " + std::to_string(s))
        == 1);
  CHECK(e.entry_on_page(6, s)["position"] == 1);
  CHECK(e.metric("booking_waitlist_promotions_total{result=\"promoted\"}") == promoted_before + 1);
  CHECK(e.metric("booking_waitlist_promotions_total{result=\"skipped\"}") == skipped_before + 1);

  // A leave frees a seat too: member 6 is promoted.
  CHECK(e.entry_on_page(6, s).is_object());
  auto l = e.cli.Post("/en/v2/training/bookings/" + std::to_string(b3) + "/leave", bearer(e.tok(3)), "{}",
                      "application/json");
  REQUIRE(l);
  CHECK(l->status == 200);
  auto p6 = e.booking_on_page(6, s);
  REQUIRE(p6.is_object());
  CHECK(p6["via_waitlist"] == true);
  CHECK(e.db.exec("SELECT count(*) FROM bookings WHERE status = 'booked' AND session_id = " + std::to_string(s)) == 2);
  CHECK(e.ledger_violations() == 0);
}

TEST_CASE("waitlist: --waitlist-cutoff-hours moves the cut-off; past it entries show expired and are not promoted") {
  env e{{"--waitlist-cutoff-hours=2"}};
  auto s = e.db.add_session(10, 1); // inside the default 14 h, outside 2 h
  e.set_credits(2, 3);
  e.set_credits(3, 3);
  auto b = e.book(2, s);
  auto r = e.join(3, s);
  REQUIRE(r);
  CHECK(r->status == 201);
  CHECK(body_of(r)["state"] == "waiting");
  // An entry on a session 1 h ahead is past this server's cut-off: expired, and a cancel promotes nobody.
  auto late = e.db.add_session(1, 1);
  e.set_credits(4, 3);
  auto bl = e.book(4, late);
  auto now = now_seconds().time_since_epoch().count();
  e.db.exec("INSERT INTO waitlist_entries (session_id, user_id, status, joined_at, updated_at) VALUES ("
            + std::to_string(late) + ", 3, 'waiting', " + std::to_string(now) + ", " + std::to_string(now) + ")");
  auto expired = e.entry_on_page(3, late);
  REQUIRE(expired.is_object());
  CHECK(expired["state"] == "expired");
  CHECK(expired["position"] == 1);
  CHECK(e.join(2, late)->status == 409);
  CHECK(e.cli.Post("/en/v2/training/bookings/" + std::to_string(bl) + "/cancel", bearer(e.tok(4)), "",
                   "application/json")->status == 200);
  CHECK(e.db.exec("SELECT count(*) FROM bookings WHERE status = 'booked' AND session_id = " + std::to_string(late))
        == 0);
  CHECK(e.entry_on_page(3, late)["state"] == "expired");
  // Before the cut-off, the same cancel promotes.
  CHECK(e.cli.Post("/en/v2/training/bookings/" + std::to_string(b) + "/cancel", bearer(e.tok(2)), "",
                   "application/json")->status == 200);
  CHECK(e.booking_on_page(3, s)["via_waitlist"] == true);
  CHECK(e.ledger_violations() == 0);
}

TEST_CASE("waitlist: the seeded database has full sessions with waiting members on their pages") {
  env e;
  auto row = e.db.exec("SELECT user_id FROM waitlist_entries WHERE status = 'waiting' ORDER BY id LIMIT 1");
  REQUIRE(row > 0);
  auto p = e.page(row);
  REQUIRE(p["waitlist"].size() >= 1);
  CHECK(p["waitlist"][0]["state"] == "waiting");
  CHECK(p["waitlist"][0]["position"].get<int>() >= 1);
}

TEST_CASE("waitlist: a sampled cancel that promotes records the promotion under its store span") {
  env e{{"--trace-sample-rate=1"}};
  auto b = e.full_session_with_waiter();
  REQUIRE(e.cli.Post("/en/v2/training/bookings/" + std::to_string(b) + "/cancel", bearer(e.tok(2)), "",
                     "application/json")->status == 200);
  auto traces = body_of(e.cli.Get("/debug/traces?limit=50"));
  REQUIRE(traces.contains("traces"));
  bool found = false;
  for (auto& t : traces["traces"]) {
    std::map<std::string, json> by_id;
    for (auto& sp : t["spans"])
      by_id[sp["span_id"].get<std::string>()] = sp;
    for (auto& sp : t["spans"]) {
      if (sp["name"] != "store promotion")
        continue;
      found = true;
      auto parent = by_id.find(sp["parent_span_id"].get<std::string>());
      REQUIRE(parent != by_id.end());
      CHECK(parent->second["name"] == "store cancel");
      CHECK(sp["attributes"]["booking.waitlist.promoted"] == 1);
      CHECK(sp["attributes"]["booking.waitlist.skipped"] == 0);
      CHECK(sp["start_unix_nano"].get<std::int64_t>() >= parent->second["start_unix_nano"].get<std::int64_t>());
      CHECK(sp["end_unix_nano"].get<std::int64_t>() <= parent->second["end_unix_nano"].get<std::int64_t>());
    }
  }
  CHECK(found);
}

TEST_CASE("a sampled write traces its cleanup: a PRODUCER hand-off, each actor hop its CONSUMER") {
  env e{{"--trace-sample-rate=1"}};
  auto b = e.full_session_with_waiter();
  REQUIRE(e.page(2).is_object()); // member 2 is cached; member 3 may be too
  REQUIRE(e.cli.Post("/en/v2/training/bookings/" + std::to_string(b) + "/cancel", bearer(e.tok(2)), "",
                     "application/json")->status == 200);
  // The cleanup runs after the answer, and its two hand-offs end at different times: wait (bounded)
  // until the trace holds both, each through the pool, the invalidator and a directory, and a user's
  // actor. (Taking the trace at the first actor hop made this test fail under load, with the second
  // hand-off's spans not yet recorded.)
  json cancel_trace;
  for (int i = 0; i < 200 && cancel_trace.is_null(); ++i) {
    auto traces = body_of(e.cli.Get("/debug/traces?limit=50"));
    for (auto& t : traces["traces"]) {
      bool is_cancel = false;
      std::map<std::string, int> seen;
      for (auto& sp : t["spans"]) {
        is_cancel = is_cancel || sp["name"] == "POST /{lang}/v2/training/bookings/{id}/cancel";
        ++seen[sp["name"].get<std::string>()];
      }
      if (is_cancel && seen["user_cache invalidate"] >= 1 && seen["invalidation_pool post"] >= 2
          && seen["invalidator invalidate"] >= 2 && seen["user_directory invalidate"] >= 2)
        cancel_trace = t;
    }
    if (cancel_trace.is_null())
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(!cancel_trace.is_null());
  std::map<std::string, json> by_id;
  for (auto& sp : cancel_trace["spans"])
    by_id[sp["span_id"].get<std::string>()] = sp;
  std::map<std::string, int> names;
  for (auto& sp : cancel_trace["spans"]) {
    auto name = sp["name"].get<std::string>();
    ++names[name];
    auto parent = by_id.find(sp["parent_span_id"].get<std::string>());
    if (name == "invalidation_pool post") {
      REQUIRE(parent != by_id.end());
      CHECK(parent->second["name"] == "POST /{lang}/v2/training/bookings/{id}/cancel");
      CHECK(sp["end_unix_nano"].get<std::int64_t>() <= parent->second["end_unix_nano"].get<std::int64_t>());
    } else if (name.find(" invalidate") != std::string::npos) {
      // Every hop of the cleanup is a CONSUMER of the hand-off, starting no earlier than it.
      REQUIRE(parent != by_id.end());
      CHECK(parent->second["name"] == "invalidation_pool post");
      CHECK(sp["start_unix_nano"].get<std::int64_t>() >= parent->second["start_unix_nano"].get<std::int64_t>());
      CHECK(sp["attributes"].contains("booking.actor.mailbox_wait_us"));
    }
  }
  // The canceller and the promoted member: two hand-offs, each through the pool and a directory.
  CHECK(names["invalidation_pool post"] == 2);
  CHECK(names["invalidator invalidate"] == 2);
  CHECK(names["user_directory invalidate"] == 2);
  CHECK(names["user_cache invalidate"] >= 1);
}

TEST_CASE("waitlist routes are in the route table: 405 with Allow, OPTIONS") {
  env e;
  for (std::string path : {"/en/v2/training/sessions/5/waitlist", "/zh-tw/v2/training/waitlist/7/withdraw"}) {
    INFO(path);
    auto r = e.cli.Get(path, bearer(e.tok(2)));
    REQUIRE(r);
    CHECK(r->status == 405);
    CHECK(r->get_header_value("Allow") == "POST, OPTIONS");
    CHECK(error_code_of(r) == "method_not_allowed");
    auto o = e.cli.Options(path);
    REQUIRE(o);
    CHECK(o->status == 204);
    CHECK(o->get_header_value("Allow") == "POST, OPTIONS");
  }
}
