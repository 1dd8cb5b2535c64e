// End-to-end under concurrency and hostility: seat races, read-your-writes, hostile HTTP,
// admission control, graceful shutdown.
#include <doctest/doctest.h>

#include <atomic>
#include <future>

#include "server_fixture.hpp"

using namespace booking;
using namespace booking::test;
using nlohmann::json;

TEST_CASE("64 users race for 10 seats: exactly 10 x 201 and 54 x 409, 20 times") {
  seeded_db db{70};
  server_process srv{db.path};
  db.exec("UPDATE users SET credits = 100");
  int total_201 = 0, total_409 = 0, other = 0;
  for (int round = 0; round < 20; ++round) {
    auto s = db.add_session(72 + round, 10);
    std::atomic<int> created{0}, full{0}, odd{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> ts;
    for (id_type u = 1; u <= 64; ++u)
      ts.emplace_back([&, u] {
        auto cli = srv.client();
        auto body = json{{"session_id", s}}.dump();
        while (!go)
          std::this_thread::yield();
        auto r = cli.Post("/en/v2/training/bookings", bearer(db.tokens.at(u)), body, "application/json");
        if (r && r->status == 201)
          ++created;
        else if (r && r->status == 409 && error_code_of(r) == "session_full")
          ++full;
        else
          ++odd;
      });
    go = true;
    for (auto& t : ts)
      t.join();
    CHECK(created == 10);
    CHECK(full == 54);
    CHECK(odd == 0);
    CHECK(db.exec("SELECT count(*) FROM bookings WHERE status = 'booked' AND session_id = " + std::to_string(s)) == 10);
    total_201 += created;
    total_409 += full;
    other += odd;
  }
  MESSAGE("race totals over 20 rounds: 201=" << total_201 << " 409=" << total_409 << " other=" << other);
  CHECK(db.exec("SELECT count(*) FROM users WHERE credits < 0 OR leave_quota < 0") == 0);
}

TEST_CASE("concurrent write-then-read pairs: 0 read-your-writes violations") {
  seeded_db db{40};
  server_process srv{db.path};
  db.exec("UPDATE users SET credits = 100, leave_quota = 100");
  std::vector<id_type> sessions;
  for (int i = 0; i < 6; ++i)
    sessions.push_back(db.add_session(24 + i, 1000));
  auto today = zone{"Asia/Taipei"}.today(now_seconds());
  auto page = "/en/v2/training/booking?from=" + format_date(today) + "&to=" + format_date(today + date::days{10});
  std::atomic<int> pairs{0}, violations{0};
  std::vector<std::thread> ts;
  for (id_type u = 1; u <= 32; ++u)
    ts.emplace_back([&, u] {
      auto cli = srv.client();
      auto h = bearer(db.tokens.at(u));
      auto has = [&](id_type booking_id, const char* status) {
        auto j = body_of(cli.Get(page, h));
        for (auto& w : j["weeks"])
          for (auto& b : w["bookings"])
            if (b["id"] == booking_id)
              return b["status"] == status;
        return false;
      };
      for (auto s : sessions) {
        cli.Get(page, h); // warm the cache so a stale copy exists
        auto r = cli.Post("/en/v2/training/bookings", h, json{{"session_id", s}}.dump(), "application/json");
        if (!r || r->status != 201) {
          ++violations;
          continue;
        }
        auto id = body_of(r)["id"].get<id_type>();
        ++pairs;
        if (!has(id, "booked"))
          ++violations;
        auto c = cli.Post("/en/v2/training/bookings/" + std::to_string(id) + "/leave", h, "{}", "application/json");
        ++pairs;
        if (!c || c->status != 200 || !has(id, "leave"))
          ++violations;
      }
    });
  for (auto& t : ts)
    t.join();
  MESSAGE("write-then-read pairs: " << pairs.load() << ", read-your-writes violations: " << violations.load());
  CHECK(pairs == 32 * 6 * 2);
  CHECK(violations == 0);
}

TEST_CASE("hostile input is refused with the right status and the server stays up") {
  seeded_db db{5};
  server_process srv{db.path};
  auto tok = db.tokens.at(1);
  auto auth = "Authorization: Bearer " + tok + "\r\n";
  struct probe {
    const char* what;
    std::string bytes;
    const char* status;
  };
  std::string deep(5000, '[');
  std::vector<probe> probes{
    {"chunked", "POST /en/v2/training/bookings HTTP/1.1\r\nHost: x\r\n" + auth +
                  "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "400"},
    {"negative chunk", "POST /en/v2/training/bookings HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-2\r\n", "400"},
    {"gzip body", "POST /en/v2/training/bookings HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nabcd", "400"},
    {"range", "GET /healthz HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1,0-2,0-3\r\n\r\n", "400"},
    {"duplicate length", "POST /en/v2/training/bookings HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 30\r\n\r\n{}", "400"},
    {"GET with body", "GET /en/v2/training/booking HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Length: 5\r\n\r\nhello", "400"},
    {"POST without length", "POST /en/v2/training/bookings HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n", "411"},
    {"POST over the cap", "POST /en/v2/training/bookings HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Length: 20000\r\n\r\n", "413"},
    {"absurd length", "POST /en/v2/training/bookings HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n", "413"},
    {"bad length", "POST /en/v2/training/bookings HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", "400"},
    {"deep JSON", "POST /en/v2/training/bookings HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Length: 5000\r\n\r\n" + deep, "400"},
    {"CRLF in token", "GET /en/v2/training/booking HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a%0D%0AX: y\r\n\r\n", "400"},
  };
  for (auto& p : probes) {
    bool closed = false;
    auto got = raw_exchange(srv.port(), p.bytes, std::chrono::milliseconds{2000}, &closed);
    INFO(p.what << ": " << got.substr(0, 200));
    CHECK(got.rfind(std::string("HTTP/1.1 ") + p.status, 0) == 0);
    CHECK(got.find("application/json") != std::string::npos);
    if (std::string(p.status) != "401")
      CHECK(closed); // Connection: close on every refusal
    CHECK(got.find("EXCEPTION_WHAT") == std::string::npos);
  }
  // Smuggling: the body of a refused GET is never answered as a second request.
  std::string inner = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  auto smuggled = raw_exchange(srv.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: "
                                             + std::to_string(inner.size()) + "\r\n\r\n" + inner);
  CHECK(count_responses(smuggled) == 1);
  // Garbage request lines and methods.
  for (std::string junk : {"\x16\x03\x01\x02\x00\x01\r\n\r\n", "GET\r\n\r\n", "BREW /coffee HTTP/1.1\r\nHost: x\r\n\r\n",
                           "GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n"}) {
    auto got = raw_exchange(srv.port(), junk, std::chrono::milliseconds{1000});
    // The status line, not any "500" (a random traceparent holds one now and then).
    CHECK(got.find("HTTP/1.1 5") == std::string::npos);
  }
  // Many headers and a long URI.
  std::string many = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 500; ++i)
    many += "X-H" + std::to_string(i) + ": v\r\n";
  raw_exchange(srv.port(), many + "\r\n", std::chrono::milliseconds{1000});
  raw_exchange(srv.port(), "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n", std::chrono::milliseconds{1000});
  auto cli = srv.client();
  auto h = cli.Get("/healthz");
  REQUIRE(h);
  CHECK(h->status == 200);
  CHECK(srv.alive());
  CHECK(db.exec("SELECT count(*) FROM bookings WHERE user_id = 1 AND created_at > strftime('%s','now') - 60") == 0);
}

TEST_CASE("admission control: over --max-inflight is 503 overloaded with Retry-After") {
  seeded_db db{5};
  server_process srv{db.path, {"--max-inflight=2", "--store-delay-ms=400"}};
  std::vector<std::future<std::pair<int, std::string>>> fs;
  for (id_type u = 1; u <= 5; ++u)
    fs.push_back(std::async(std::launch::async, [&, u] {
      auto cli = srv.client();
      auto r = cli.Get("/en/v2/training/booking", bearer(db.tokens.at(u)));
      return std::make_pair(r ? r->status : -1, r ? r->get_header_value("Retry-After") : std::string());
    }));
  int ok = 0, overloaded = 0;
  for (auto& f : fs) {
    auto [status, retry] = f.get();
    if (status == 200)
      ++ok;
    if (status == 503) {
      ++overloaded;
      CHECK(retry == "1");
    }
  }
  CHECK(ok >= 2);
  CHECK(overloaded >= 1);
  CHECK(ok + overloaded == 5);
  auto m = srv.client().Get("/metrics");
  CHECK(m->body.find("booking_rejected_requests_total{reason=\"overloaded\"} 0") == std::string::npos);
}

TEST_CASE("defaults serve 200 simultaneous clients without a refusal") {
  seeded_db db{200};
  server_process srv{db.path};
  std::atomic<int> ok{0}, refused{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> ts;
  for (id_type u = 1; u <= 200; ++u)
    ts.emplace_back([&, u] {
      auto cli = srv.client();
      while (!go)
        std::this_thread::yield();
      for (int i = 0; i < 3; ++i) {
        auto r = cli.Get("/en/v2/training/booking", bearer(db.tokens.at(u)));
        (r && r->status == 200 ? ok : refused)++;
      }
    });
  go = true;
  for (auto& t : ts)
    t.join();
  CHECK(ok == 600);
  CHECK(refused == 0);
}

TEST_CASE("SIGTERM with a request in flight: it completes and the process exits 0") {
  seeded_db db{5};
  server_process srv{db.path, {"--store-delay-ms=1500"}};
  auto s = db.add_session(48, 5);
  db.set_user(2, 5, 1);
  auto inflight = std::async(std::launch::async, [&] {
    auto cli = srv.client();
    return cli.Post("/en/v2/training/bookings", bearer(db.tokens.at(2)), json{{"session_id", s}}.dump(),
                    "application/json");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds{500});
  auto t0 = std::chrono::steady_clock::now();
  auto code = srv.terminate();
  auto r = inflight.get();
  REQUIRE(r);
  CHECK(r->status == 201);
  CHECK(code == 0);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds{10});
  CHECK(db.exec("SELECT count(*) FROM bookings WHERE user_id = 2 AND session_id = " + std::to_string(s)) == 1);
}

TEST_CASE("SIGTERM: a request already sent on a connection waiting for a thread is answered 503, not dropped") {
  seeded_db db{5};
  server_process srv{db.path, {"--http-threads=4"}};
  auto connect_to = [&] {
    int fd = connect_local(srv.port());
    REQUIRE(fd >= 0);
    return fd;
  };
  const std::string get = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  // Four connections hold the pool's four threads (the least it runs): each answered once, then
  // idle on keep-alive.
  std::vector<int> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(connect_to());
    ::send(held.back(), get.data(), get.size(), MSG_NOSIGNAL);
    REQUIRE(read_for(held.back(), std::chrono::milliseconds{1000}).rfind("HTTP/1.1 200", 0) == 0);
  }
  // B is accepted and waits in the pool's queue with its whole request sent.
  int b = connect_to();
  ::send(b, get.data(), get.size(), MSG_NOSIGNAL);
  REQUIRE(read_for(b, std::chrono::milliseconds{300}).empty()); // no thread for it yet
  auto code = srv.terminate();
  auto answer = read_for(b, std::chrono::milliseconds{3000});
  for (int fd : held)
    ::close(fd);
  ::close(b);
  CHECK(code == 0);
  CHECK(answer.rfind("HTTP/1.1 503", 0) == 0);
  CHECK(answer.find("Connection: close") != std::string::npos);
  CHECK(answer.find("\"unavailable\"") != std::string::npos);
}
