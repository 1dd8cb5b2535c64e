// End-to-end telemetry against real processes and sockets: every exported span passes the strict
// OTLP/JSON check and the structure rules of SPEC §7 (tests/otlp_check.py) under coalescing; an
// OTLP collector that is down costs requests nothing and its drops are counted and warned about
// once; log lines under 32 concurrent connections are whole logfmt lines; /metrics passes
// `promtool check metrics` at start-up and after load.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <regex>
#include <set>

#include "server_fixture.hpp"
#include "telemetry/trace_context.hpp"

using namespace booking;
using namespace booking::test;
using nlohmann::json;

namespace {

/// A local OTLP/HTTP receiver that appends every body as one line to a file.
struct file_receiver {
  httplib::Server svr;
  std::mutex m;
  std::ofstream out;
  int port = 0;
  std::thread th;
  explicit file_receiver(const std::string& path) : out(path) {
    svr.Post("/v1/traces", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> g{m};
      out << req.body << '\n';
      out.flush();
      res.set_content("{}", "application/json");
    });
    port = svr.bind_to_any_port("127.0.0.1");
    th = std::thread{[this] { svr.listen_after_bind(); }};
  }
  ~file_receiver() {
    svr.stop();
    th.join();
  }
};

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line))
    out.push_back(line);
  return out;
}

/// Runs a command; its exit status, with its output appended to `output`.
int run(const std::string& cmd, std::string& output) {
  auto* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p)
    return -1;
  char buf[4096];
  while (auto n = std::fread(buf, 1, sizeof buf, p))
    output.append(buf, n);
  int status = ::pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string traceparent(std::uint64_t n, bool sampled) {
  char tid[33];
  std::snprintf(tid, sizeof tid, "%016llx%016llx", 0x5eedull, static_cast<unsigned long long>(n + 1));
  return std::string("00-") + tid + "-00f067aa0ba902b7-" + (sampled ? "01" : "00");
}

double metric_value(const std::string& exposition, const std::string& series) {
  for (auto& line : lines_of(exposition))
    if (line.rfind(series + " ", 0) == 0)
      return std::stod(line.substr(series.size() + 1));
  return -1;
}

} // namespace

TEST_CASE("exported spans pass the strict OTLP/JSON check and the structure rules, coalesced requests included") {
  seeded_db db{40};
  temp_dir dir;
  auto file = dir.file("spans.jsonl"), received = dir.file("received.jsonl");
  file_receiver rx{received};
  server_process srv{db.path,
                     {"--trace-file=" + file, "--otlp-endpoint=http://127.0.0.1:" + std::to_string(rx.port),
                      "--store-delay-ms=20", "--trace-sample-rate=0.05"}};
  std::vector<id_type> members;
  for (auto& [id, token] : db.tokens)
    if (id != db.admin)
      members.push_back(id);
  REQUIRE(members.size() >= 30);
  std::atomic<int> failures{0};
  std::uint64_t trace_no = 0;
  // Per cold user: a trigger, then four requests that arrive while its load runs. Half the
  // triggers are unsampled with sampled followers (the load must still be recorded for their
  // links), half the other way round.
  for (std::size_t u = 0; u < 30; ++u) {
    auto user = members[u];
    auto h = bearer(db.tokens.at(user));
    REQUIRE(srv.client().Get("/en/v2/training/locations", h)->status == 200); // the token is cached
    bool trigger_sampled = u % 2 == 1;
    std::vector<std::thread> ts;
    auto get = [&, h](std::string tp) {
      auto hh = h;
      hh.emplace("traceparent", tp);
      auto r = srv.client().Get("/en/v2/training/booking", hh);
      if (!r || r->status != 200)
        ++failures;
    };
    ts.emplace_back(get, traceparent(trace_no++, trigger_sampled));
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
    for (int i = 0; i < 4; ++i)
      ts.emplace_back(get, traceparent(trace_no++, !trigger_sampled));
    for (auto& t : ts)
      t.join();
  }
  // Other routes, writes, refusals, with the ratio sampler (and a forced sampled share).
  auto cli = srv.client();
  for (int i = 0; i < 60; ++i) {
    auto user = members[static_cast<std::size_t>(i) % members.size()];
    auto h = [&] { // a trace of its own per request
      auto hh = bearer(db.tokens.at(user));
      hh.emplace("traceparent", traceparent(trace_no++, i % 3 == 0));
      return hh;
    };
    cli.Get("/en/v2/training/sessions?location_id=1", h());
    cli.Get("/en/v2/training/locations", h());
    cli.Post("/en/v2/training/bookings", h(), R"({"session_id": 1})", "application/json");
    cli.Get("/en/v2/training/booking?from=2026-01-01&to=2027-01-01", h()); // 400
  }
  CHECK(failures == 0);
  REQUIRE(srv.terminate() == 0); // flushes every span
  std::string out;
  int status = run("python3 " BOOKING_SOURCE_DIR "/tests/otlp_check.py --structure " + file + " " + received, out);
  INFO(out);
  CHECK(status == 0);
  // Coalesced requests linked to recorded loads (the checker proved every link resolves).
  auto text = read_file(file);
  CHECK(text.find("\"links\"") != std::string::npos);
  CHECK(text.find("\"kind\":4") != std::string::npos);
  CHECK(text.find("\"kind\":5") != std::string::npos);
  CHECK(read_file(received).size() > 0);
}

TEST_CASE("a collector that is down: requests are not slowed, spans dropped by reason, one warning") {
  seeded_db db{10};
  temp_dir dir;
  auto log = dir.file("stderr.log");
  int dead_port = refused_port();
  REQUIRE(dead_port > 0);
  server_process srv{db.path,
                     {"--trace-sample-rate=1", "--otlp-endpoint=http://127.0.0.1:" + std::to_string(dead_port)},
                     log};
  std::vector<double> ms;
  std::mutex m;
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      auto cli = srv.client();
      auto h = bearer(db.tokens.at(static_cast<id_type>(1 + t)));
      cli.Get("/en/v2/training/booking", h); // warm-up: connection, token, cold page
      for (int i = 0; i < 100; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        auto r = cli.Get("/en/v2/training/booking", h);
        auto d = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        {
          std::lock_guard<std::mutex> g{m};
          ms.push_back(r && r->status == 200 ? d : 1e9);
        }
        if (i % 25 == 0)
          std::this_thread::sleep_for(std::chrono::milliseconds{300}); // spread over several export batches
      }
    });
  for (auto& t : ts)
    t.join();
  std::sort(ms.begin(), ms.end());
  auto p99 = ms[ms.size() * 99 / 100];
  MESSAGE("latency with the collector down: p50 " << ms[ms.size() / 2] << " ms, p99 " << p99 << " ms, max "
                                                   << ms.back() << " ms");
  CHECK(ms.back() < 1000); // no request waits for the exporter (its retries take seconds)
  CHECK(p99 < 250);
  auto cli = srv.client();
  double dropped = 0, retries = 0;
  for (int i = 0; i < 150 && dropped <= 0; ++i) { // the first batch gives up after ~3 s of backoff
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
    auto body = cli.Get("/metrics")->body;
    dropped = metric_value(body, R"(booking_trace_spans_dropped_total{reason="retries_exhausted"})");
    retries = metric_value(body, "booking_trace_export_retries_total");
  }
  CHECK(dropped > 0);
  CHECK(retries >= 4); // max_attempts 5: four retries per failed batch
  CHECK(srv.terminate() == 0);
  int warnings = 0;
  for (auto& line : lines_of(read_file(log)))
    if (line.find("msg=\"trace export failing\"") != std::string::npos) {
      ++warnings;
      CHECK(line.find("level=warn") != std::string::npos);
    }
  CHECK(warnings == 1); // at most once a minute, however many batches failed
}

TEST_CASE("log lines under 32 concurrent connections are whole logfmt lines with a trace id") {
  seeded_db db{40};
  temp_dir dir;
  auto log = dir.file("stderr.log");
  std::size_t requests = 0;
  {
    server_process srv{db.path, {"--access-log", "--http-threads=64"}, log};
    std::vector<std::thread> ts;
    std::atomic<std::size_t> sent{0};
    for (int t = 0; t < 32; ++t)
      ts.emplace_back([&, t] {
        auto cli = srv.client();
        auto h = bearer(db.tokens.at(static_cast<id_type>(1 + t % 30)));
        h.emplace("User-Agent", "a \"quoted\" agent = with spaces");
        for (int i = 0; i < 25; ++i) {
          if (i % 5 == 4)
            cli.Get("/en/v2/training/booking"); // 401
          else
            cli.Get("/en/v2/training/booking", h);
          ++sent;
        }
      });
    for (auto& t : ts)
      t.join();
    requests = sent;
    CHECK(srv.terminate() == 0);
  }
  // logfmt: key=value pairs, values plain or quoted with escapes; ts= first, then level= and msg=.
  std::regex line_re(
    R"re(^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=(debug|info|warn|error) msg=([^ "=\\]+|"(\\.|[^"\\])*")( [a-z_][a-z0-9_.]*=([^ "=\\]+|"(\\.|[^"\\])*"))*$)re");
  std::regex trace_re(R"( trace_id=[0-9a-f]{32}( |$))");
  std::size_t access = 0, lines = 0;
  std::set<std::string> messages;
  for (auto& line : lines_of(read_file(log))) {
    ++lines;
    INFO(line);
    CHECK(std::regex_match(line, line_re));
    if (line.find(" msg=access ") != std::string::npos) {
      ++access;
      CHECK(std::regex_search(line, trace_re));
      CHECK(line.find("Bearer") == std::string::npos);
    }
    std::smatch m;
    if (std::regex_search(line, m, std::regex(R"( msg=("[^"]*"|\S+))")))
      messages.insert(m[1]);
    if (line.find(" msg=starting ") != std::string::npos) {
      // The configuration in effect, limits included; never the OTLP endpoint's URL.
      for (const char* key : {" rate_limit_per_second=50 ", " rate_limit_burst=100 ", " reply_timeout_ms=",
                              " max_body_bytes=", " keep_alive_seconds=", " store_busy_timeout_ms=", " otlp_export="})
        CHECK(line.find(key) != std::string::npos);
      CHECK(line.find("http://") == std::string::npos);
    }
  }
  CHECK(access == requests);
  CHECK(messages.count("starting") == 1);
  CHECK(messages.count("listening") == 1);
  CHECK(messages.count("\"shutting down\"") == 1);
  CHECK(messages.count("stopped") == 1);
  MESSAGE(lines << " log lines, " << access << " access lines");
}

TEST_CASE("promtool check metrics: clean at start-up and after load; every family from start-up") {
  std::string version;
  if (run("promtool --version", version) != 0) {
    MESSAGE("SKIPPED: promtool not found (Debian package `prometheus`, installed by scripts/install-deps.sh)");
    return;
  }
  seeded_db db{10};
  temp_dir dir;
  server_process srv{db.path};
  auto cli = srv.client();
  auto check = [&](const char* when) {
    auto body = cli.Get("/metrics")->body;
    auto path = dir.file(std::string("metrics-") + when + ".txt");
    std::ofstream{path} << body;
    std::string out;
    int status = run("promtool check metrics < " + path, out);
    INFO(when << ": " << out);
    CHECK(status == 0);
    return body;
  };
  auto start = check("start");
  for (auto family : {"booking_http_requests_total", "booking_http_request_duration_seconds",
                      "booking_store_loads_total", "booking_cache_requests_total", "booking_invalidations_total",
                      "booking_invalidation_queue_depth", "booking_user_actors", "booking_inflight_requests",
                      "booking_rejected_requests_total", "booking_waitlist_promotions_total", "booking_build_info",
                      "process_resident_memory_bytes", "process_cpu_seconds_total", "process_open_fds",
                      "process_start_time_seconds"}) {
    INFO(family);
    CHECK(start.find(std::string("# TYPE ") + family + " ") != std::string::npos);
  }
  for (auto series : {R"(booking_http_requests_total{method="GET",route="/{lang}/v2/training/booking",status="200"} 0)",
                      R"(booking_http_requests_total{method="GET",route="unmatched",status="404"} 0)",
                      R"(booking_http_requests_total{method="OPTIONS",route="/{lang}/v2/training/booking",status="204"} 0)",
                      R"(booking_http_requests_total{method="POST",route="/{lang}/v2/training/booking",status="405"} 0)",
                      R"(booking_http_requests_total{method="GET",route="/{lang}/v2/training/bookings",status="405"} 0)",
                      R"(booking_http_requests_total{method="POST",route="refused",status="400"} 0)",
                      R"(booking_waitlist_promotions_total{result="promoted"} 0)",
                      R"(booking_http_request_duration_seconds_bucket{route="/{lang}/v2/training/booking",le="2.5e-05"} 0)",
                      R"(booking_http_request_duration_seconds_bucket{route="/{lang}/v2/training/booking",le="0.001"} 0)",
                      R"(booking_http_request_duration_seconds_bucket{route="/{lang}/v2/training/booking",le="0.002"} 0)"}) {
    INFO(series);
    CHECK(start.find(series) != std::string::npos);
  }
  CHECK(metric_value(start, "process_resident_memory_bytes") > 1e6);
  CHECK(metric_value(start, "process_open_fds") > 3);
  CHECK(metric_value(start, "process_start_time_seconds") > 1.7e9);
  for (int i = 0; i < 200; ++i) {
    auto h = bearer(db.tokens.at(static_cast<id_type>(1 + i % 9)));
    cli.Get("/en/v2/training/booking", h);
    cli.Get("/en/v2/training/locations", h);
    cli.Get("/zz/v2/training/booking", h);
    cli.Post("/en/v2/training/bookings", h, "{}", "application/json");
  }
  check("after-load");
}
