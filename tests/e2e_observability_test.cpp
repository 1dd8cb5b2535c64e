// End-to-end observability: W3C propagation through the server, OTLP/HTTP export to a local
// receiver, the trace file, /debug/traces, and /metrics as Prometheus text.
#include <doctest/doctest.h>

#include <set>

#include <fstream>
#include <mutex>
#include <regex>
#include <thread>

#include "telemetry/child_span.hpp"
#include "telemetry/otlp_json.hpp"
#include "telemetry/tracer.hpp"
#include "server_fixture.hpp"

using namespace booking;
using namespace booking::test;
using nlohmann::json;

namespace {

/// A local OTLP/HTTP receiver: collects the bodies POSTed to /v1/traces.
struct otlp_receiver {
  httplib::Server svr;
  std::mutex m;
  std::vector<json> bodies;
  std::vector<std::string> content_types;
  int port = 0;
  std::thread th;
  otlp_receiver() {
    svr.Post("/v1/traces", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> g{m};
      bodies.push_back(json::parse(req.body));
      content_types.push_back(req.get_header_value("Content-Type"));
      res.set_content("{}", "application/json");
    });
    port = svr.bind_to_any_port("127.0.0.1");
    th = std::thread{[this] { svr.listen_after_bind(); }};
  }
  ~otlp_receiver() {
    svr.stop();
    th.join();
  }
  std::vector<json> spans_of(const std::string& trace_hex) {
    std::lock_guard<std::mutex> g{m};
    std::vector<json> out;
    for (auto& b : bodies)
      for (auto& rs : b["resourceSpans"])
        for (auto& ss : rs["scopeSpans"])
          for (auto& s : ss["spans"])
            if (s["traceId"] == trace_hex)
              out.push_back(s);
    return out;
  }
};

bool is_hex(const json& v, std::size_t n) {
  if (!v.is_string())
    return false;
  auto s = v.get<std::string>();
  return s.size() == n && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

bool is_nanos(const json& v) {
  if (!v.is_string())
    return false;
  auto s = v.get<std::string>();
  return s.size() >= 19 && s.find_first_not_of("0123456789") == std::string::npos;
}

} // namespace

TEST_CASE("every response carries a traceparent: unmatched paths, 405, OPTIONS and refusals too") {
  seeded_db db{3};
  server_process srv{db.path};
  const std::string parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  const std::string tp = "traceparent: " + parent + "\r\n";
  const std::string host = "Host: 127.0.0.1\r\n";
  const char* requests[] = {
    "GET /fr/v2/training/booking HTTP/1.1\r\n",                 // 404, unknown language
    "GET /en/v2/nope HTTP/1.1\r\n",                             // 404, unknown path
    "DELETE /en/v2/training/booking HTTP/1.1\r\n",              // 405
    "OPTIONS /en/v2/training/booking HTTP/1.1\r\n",             // 204
    "POST /en/v2/training/bookings HTTP/1.1\r\n",               // 411, no Content-Length
    "GET /healthz HTTP/1.1\r\nRange: bytes=0-5\r\n",           // 400, Range refused
    "GET /en/v2/training/booking HTTP/1.1\r\n",                 // 401, no token
    "GET /healthz HTTP/1.1\r\n",                                // 200, an ops endpoint
  };
  for (std::string line : requests) {
    CAPTURE(line);
    auto raw = raw_exchange(srv.port(), line + host + tp + "Connection: close\r\n\r\n");
    auto head = raw.substr(0, raw.find("\r\n\r\n"));
    auto at = head.find("\r\ntraceparent: ");
    REQUIRE(at != std::string::npos);
    auto back = parse_traceparent(head.substr(at + 15, 55));
    REQUIRE(back);
    CHECK(to_hex(back->trace) == "0af7651916cd43dd8448eb211c80319c"); // the caller's trace
    // Without one, a new trace id.
    auto fresh = raw_exchange(srv.port(), line + host + "Connection: close\r\n\r\n");
    auto fhead = fresh.substr(0, fresh.find("\r\n\r\n"));
    auto fat = fhead.find("\r\ntraceparent: ");
    REQUIRE(fat != std::string::npos);
    CHECK(parse_traceparent(fhead.substr(fat + 15, 55)));
  }
  // The parent was sampled, and so is every answer's traceparent: each names a recorded server span
  // (a black-box review found none recorded for requests answered before routing, nor for ops).
  auto raw = raw_exchange(srv.port(), "GET /debug/traces?limit=1000 HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n");
  auto traces = json::parse(raw.substr(raw.find("\r\n\r\n") + 4));
  std::multiset<int> statuses;
  for (auto& t : traces["traces"])
    if (t["trace_id"] == "0af7651916cd43dd8448eb211c80319c")
      for (auto& sp : t["spans"])
        if (sp["parent_span_id"] == "b7ad6b7169203331") {
          CHECK(sp["attributes"].contains("http.route"));
          statuses.insert(sp["attributes"]["http.response.status_code"].get<int>());
        }
  CHECK(statuses == std::multiset<int>{404, 404, 405, 204, 411, 400, 401, 200});
}

TEST_CASE("OTLP/HTTP export to a local receiver, validated field by field") {
  otlp_receiver rx;
  seeded_db db{5};
  server_process srv{db.path, {"--otlp-endpoint=http://127.0.0.1:" + std::to_string(rx.port), "--trace-sample-rate=0"}};
  auto cli = srv.client();
  auto h = bearer(db.tokens.at(1));
  auto parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  h.emplace("traceparent", parent);
  h.emplace("User-Agent", "observability-test/1.0");
  auto r = cli.Get("/en/v2/training/booking?from=2026-11-23&to=2026-12-06", h);
  REQUIRE(r->status == 200);
  auto back = parse_traceparent(r->get_header_value("traceparent"));
  REQUIRE(back);
  CHECK(to_hex(back->trace) == "0af7651916cd43dd8448eb211c80319c");
  CHECK(back->sampled); // parent-based, although the ratio is 0
  std::vector<json> spans;
  for (int i = 0; i < 100 && spans.size() < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
    spans = rx.spans_of("0af7651916cd43dd8448eb211c80319c");
  }
  REQUIRE(spans.size() == 5); // server, token lookup, directory, user cache, page load
  CHECK(rx.content_types[0] == "application/json");
  std::map<std::string, json> by_name;
  for (auto& s : spans) {
    by_name[s["name"]] = s;
    CHECK(is_hex(s["traceId"], 32));
    CHECK(is_hex(s["spanId"], 16));
    CHECK(is_hex(s["parentSpanId"], 16));
    CHECK(is_nanos(s["startTimeUnixNano"]));
    CHECK(is_nanos(s["endTimeUnixNano"]));
    CHECK(std::stoll(s["endTimeUnixNano"].get<std::string>()) >= std::stoll(s["startTimeUnixNano"].get<std::string>()));
    CHECK(s["status"].is_object());
  }
  auto& root = by_name["GET /{lang}/v2/training/booking"];
  CHECK(root["kind"] == 2);
  CHECK(root["parentSpanId"] == "b7ad6b7169203331");
  CHECK(root["spanId"] == to_hex(back->span));
  std::map<std::string, json> attrs;
  for (auto& a : root["attributes"])
    attrs[a["key"]] = a["value"];
  CHECK(attrs["http.request.method"] == json{{"stringValue", "GET"}});
  CHECK(attrs["http.route"] == json{{"stringValue", "/{lang}/v2/training/booking"}});
  CHECK(attrs["http.response.status_code"] == json{{"intValue", "200"}});
  CHECK(attrs["url.path"] == json{{"stringValue", "/en/v2/training/booking"}});
  CHECK(attrs["url.query"] == json{{"stringValue", "from=2026-11-23&to=2026-12-06"}});
  CHECK(attrs["url.scheme"] == json{{"stringValue", "http"}});
  CHECK(attrs["network.protocol.version"] == json{{"stringValue", "1.1"}});
  CHECK(attrs["server.address"] == json{{"stringValue", "127.0.0.1"}});
  CHECK(attrs["server.port"] == json{{"intValue", std::to_string(srv.port())}});
  CHECK(attrs["client.address"] == json{{"stringValue", "127.0.0.1"}});
  CHECK(attrs["user_agent.original"] == json{{"stringValue", "observability-test/1.0"}});
  CHECK(attrs.count("error.type") == 0);
  auto& dir = by_name["user_directory page"];
  auto& cache = by_name["user_cache page"];
  auto& load = by_name["store load_user"];
  CHECK(dir["kind"] == 4); // PRODUCER: the user actor answers after it
  CHECK(cache["kind"] == 5);
  auto& token = by_name["store find_token"];
  CHECK(token["kind"] == 3);
  CHECK(token["parentSpanId"] == root["spanId"]);
  CHECK(dir["parentSpanId"] == root["spanId"]);
  CHECK(cache["parentSpanId"] == dir["spanId"]);
  CHECK(load["parentSpanId"] == cache["spanId"]);
  CHECK(load["kind"] == 3);
  // The resource names the service, its version and instance.
  std::map<std::string, json> res;
  for (auto& a : rx.bodies[0]["resourceSpans"][0]["resource"]["attributes"])
    res[a["key"]] = a["value"];
  CHECK(res["service.name"] == json{{"stringValue", "booking-server"}});
  for (auto k : {"service.version", "service.instance.id", "telemetry.sdk.name", "telemetry.sdk.language",
                 "telemetry.sdk.version"})
    CHECK(res.count(k) == 1);
}

TEST_CASE("bytes that are not UTF-8, long values and secrets in a URL never reach a span as sent") {
  // A black-box review: one request with a 0xFF byte in its User-Agent, query, path or Host ended the
  // process once spans were exported, and made /debug/traces a 500 without an exporter.
  seeded_db db{3};
  temp_dir dir;
  auto file = dir.file("spans.jsonl");
  server_process srv{db.path, {"--trace-sample-rate=1", "--trace-file=" + file}};
  const std::string tp = "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n";
  const std::string tok = db.tokens.at(1);
  const std::string requests[] = {
    "GET /en/v2/training/locations HTTP/1.1\r\nHost: x\r\nUser-Agent: \xff\xfe\r\n",
    "GET /healthz?a=\xff HTTP/1.1\r\nHost: x\r\n",
    "GET /en/v2/\xff HTTP/1.1\r\nHost: x\r\n",
    "GET /en/v2/%ff HTTP/1.1\r\nHost: x\r\n",
    "GET /healthz HTTP/1.1\r\nHost: \xff\r\n",
    "GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: " + std::string(5000, 'u') + "\r\n",
    "GET /en/v2/training/booking?token=" + tok + "&sig=S3CRET&from=2026-11-23 HTTP/1.1\r\nHost: x\r\n"
    "Authorization: Bearer " + tok + "\r\n",
    // A second review: the secret as a bare query part, as a parameter's name, or as path segments.
    "GET /en/v2/training/booking?" + tok + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok + "\r\n",
    "GET /en/v2/training/booking?" + tok + "=1&from=2026-11-23 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok + "\r\n",
    "GET /en/v2/training/locations?alice@example.com HTTP/1.1\r\nHost: x\r\n",
    "GET /nosuch/" + tok + "/bob@example.org HTTP/1.1\r\nHost: x\r\n",
    "GET /en/v2/training/bookings/" + tok + "/cancel HTTP/1.1\r\nHost: x\r\n",
    "GET /en/v2/training/bookings/42/cancel?x@y.z=1 HTTP/1.1\r\nHost: x\r\n",
    "GET /healthz?v6 HTTP/1.1\r\nHost: [::1]:8080\r\n",
    "GET /healthz?badport HTTP/1.1\r\nHost: y:99999\r\n",
  };
  for (const auto& r : requests)
    raw_exchange(srv.port(), r + tp + "Connection: close\r\n\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds{1500}); // the export thread writes every second
  REQUIRE(srv.alive());
  auto cli = srv.client();
  auto traces = cli.Get("/debug/traces?limit=100");
  REQUIRE(traces);
  REQUIRE(traces->status == 200);
  auto body = json::parse(traces->body); // valid JSON: valid UTF-8
  std::size_t spans = 0;
  for (auto& t : body["traces"])
    for (auto& sp : t["spans"]) {
      ++spans;
      for (auto& [k, v] : sp["attributes"].items())
        if (v.is_string())
          CHECK_MESSAGE(v.get<std::string>().size() <= 512, k);
    }
  CHECK(spans >= 7);
  CHECK(traces->body.find(tok) == std::string::npos);
  CHECK(traces->body.find("S3CRET") == std::string::npos);
  CHECK(traces->body.find("token=REDACTED&sig=REDACTED&from=2026-11-23") != std::string::npos);
  for (auto secret : {"alice@example.com", "bob@example.org", "x@y.z"})
    CHECK_MESSAGE(traces->body.find(secret) == std::string::npos, secret);
  // What is kept: the API's own names and values, the routes' segments, numbers; the rest is REDACTED.
  CHECK(traces->body.find(R"("url.query":"REDACTED=REDACTED&from=2026-11-23")") != std::string::npos);
  CHECK(traces->body.find(R"("url.path":"/REDACTED/REDACTED/REDACTED")") != std::string::npos);
  CHECK(traces->body.find(R"("url.path":"/en/v2/training/bookings/REDACTED/cancel")") != std::string::npos);
  CHECK(traces->body.find(R"("url.path":"/en/v2/training/bookings/42/cancel")") != std::string::npos);
  // server.*: an IPv6 literal without its brackets, and no port above 65535 taken from Host.
  CHECK(traces->body.find(R"("server.address":"::1","server.port":8080)") != std::string::npos);
  CHECK(traces->body.find("99999") == std::string::npos);
  CHECK(srv.terminate() == 0);
  std::ifstream in{file};
  std::string line, all;
  int lines = 0;
  while (std::getline(in, line)) {
    auto j = json::parse(line); // throws, failing the test, on bytes that are not UTF-8
    CHECK(j.contains("resourceSpans"));
    all += line;
    ++lines;
  }
  CHECK(lines >= 1);
  CHECK(all.find(tok) == std::string::npos);
}

TEST_CASE("propagation: unsampled parent, malformed and all-zero headers") {
  seeded_db db{5};
  temp_dir dir;
  auto file = dir.file("spans.jsonl");
  server_process srv{db.path, {"--trace-sample-rate=1", "--trace-file=" + file}};
  auto cli = srv.client();
  auto get = [&](const char* tp) {
    auto h = bearer(db.tokens.at(2));
    if (tp)
      h.emplace("traceparent", tp);
    auto r = cli.Get("/en/v2/training/booking", h);
    return *parse_traceparent(r->get_header_value("traceparent"));
  };
  {
    // Unsampled: once the location list is served, the directories have it, so the page the first
    // request publishes carries it and the sampled requests below are served from it.
    auto h = bearer(db.tokens.at(2));
    h.emplace("traceparent", "00-33333333333333333333333333333333-4444444444444444-00");
    REQUIRE(cli.Get("/en/v2/training/locations", h)->status == 200);
  }
  auto unsampled = get("00-11111111111111111111111111111111-2222222222222222-00");
  CHECK(to_hex(unsampled.trace) == "11111111111111111111111111111111");
  CHECK(!unsampled.sampled);
  auto malformed = get("00-11111111111111111111111111111111-2222222222222222");
  CHECK(to_hex(malformed.trace) != "11111111111111111111111111111111");
  CHECK(malformed.sampled); // a new root, sampled at rate 1
  auto zero = get("00-00000000000000000000000000000000-2222222222222222-01");
  CHECK(to_hex(zero.trace) != "00000000000000000000000000000000");
  auto traces = body_of(cli.Get("/debug/traces?limit=50"));
  std::set<std::string> ids;
  for (auto& t : traces["traces"])
    ids.insert(t["trace_id"]);
  CHECK(ids.count("11111111111111111111111111111111") == 0); // unsampled: nothing recorded
  CHECK(ids.count(to_hex(malformed.trace)) == 1);
  CHECK(traces["traces"][0]["trace_id"] == to_hex(zero.trace)); // newest first
  CHECK(body_of(cli.Get("/debug/traces?limit=1"))["traces"].size() == 1);
  CHECK(cli.Get("/debug/traces?limit=x")->status == 400);
  // The trace file: one {"resourceSpans": [...]} object a line.
  CHECK(srv.terminate() == 0);
  std::ifstream in{file};
  std::string line;
  int lines = 0, spans = 0;
  while (std::getline(in, line)) {
    auto j = json::parse(line);
    REQUIRE(j.contains("resourceSpans"));
    spans += static_cast<int>(j["resourceSpans"][0]["scopeSpans"][0]["spans"].size());
    ++lines;
  }
  CHECK(lines >= 1);
  // Two sampled requests answered from the page the user's actor published (the server span only:
  // no actor hop on their path), the location refresh at start-up (a trace of its own), and the
  // three reads of /debug/traces (an ops endpoint's server span, recorded like any request's).
  CHECK(spans == 6);
}

TEST_CASE("/metrics parses as Prometheus text exposition") {
  seeded_db db{5};
  server_process srv{db.path};
  auto cli = srv.client();
  cli.Get("/en/v2/training/booking", bearer(db.tokens.at(1)));
  cli.Get("/en/v2/training/booking");
  auto r = cli.Get("/metrics");
  REQUIRE(r->status == 200);
  CHECK(r->get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0) == 0);
  std::regex help(R"(^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$)");
  std::regex type(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$)");
  std::regex sample(R"re(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)( -?[0-9]+)?$)re");
  std::map<std::string, std::string> types;
  std::istringstream in{r->body};
  std::string line;
  int samples = 0;
  while (std::getline(in, line)) {
    if (line.empty())
      continue;
    std::smatch m;
    if (line.rfind("# HELP", 0) == 0) {
      CHECK(std::regex_match(line, help));
    } else if (line.rfind("# TYPE", 0) == 0) {
      REQUIRE(std::regex_match(line, m, type));
      types[m[1]] = m[2];
      if (m[2] == "counter")
        CHECK(std::string(m[1]).size() > 6);
    } else {
      INFO(line);
      REQUIRE(std::regex_match(line, m, sample));
      ++samples;
      std::string name = m[1];
      auto base = std::regex_replace(name, std::regex("_(bucket|sum|count)$"), "");
      CHECK((types.count(name) || types.count(base)));
    }
  }
  CHECK(samples > 30);
  for (auto& [name, kind] : types)
    if (kind == "counter")
      CHECK(name.substr(name.size() - 6) == "_total");
  CHECK(types["booking_http_request_duration_seconds"] == "histogram");
  CHECK(r->body.find("booking_http_request_duration_seconds_bucket{route=\"/{lang}/v2/training/booking\",le=\"+Inf\"}") != std::string::npos);
}

TEST_CASE("a reply that times out: every span that outlives its parent is a CONSUMER under a PRODUCER") {
  // A black-box review: a page sent straight to a known user actor had its CONSUMER span under the
  // SERVER span, and when the reply timed out (503) the actor's span ended 250 ms after its parent.
  seeded_db db{5};
  auto s = db.add_session(72, 5);
  temp_dir dir;
  auto file = dir.file("spans.jsonl");
  server_process srv{db.path, {"--reply-timeout-ms=50", "--store-delay-ms=300", "--trace-sample-rate=1",
                              "--trace-file=" + file, "--cache-ttl-seconds=1"}};
  auto cli = srv.client();
  auto h = bearer(db.tokens.at(1));
  // The first page times out while its load runs; once it is cached, a write (which hands the
  // member's cache the snapshot it read), then, once that snapshot's TTL has passed, a page that goes
  // straight to the user's actor and outlasts the reply timeout again.
  cli.Get("/en/v2/training/booking", h);
  std::this_thread::sleep_for(std::chrono::milliseconds{700});
  REQUIRE(cli.Get("/en/v2/training/booking", h)->status == 200);
  REQUIRE(cli.Post("/en/v2/training/bookings", h, "{\"session_id\": " + std::to_string(s) + "}", "application/json")->status
          == 201);
  std::this_thread::sleep_for(std::chrono::milliseconds{1200});
  REQUIRE(cli.Get("/en/v2/training/booking", h)->status == 503);
  std::this_thread::sleep_for(std::chrono::milliseconds{700}); // the load finishes after the answer
  CHECK(srv.terminate() == 0); // the exporter writes what is queued
  std::map<std::string, json> by_id;
  std::ifstream in{file};
  std::string line;
  while (std::getline(in, line)) {
    auto batch = json::parse(line);
    for (auto& rs : batch["resourceSpans"])
      for (auto& ss : rs["scopeSpans"])
        for (auto& sp : ss["spans"])
          by_id[sp["spanId"].get<std::string>()] = sp;
  }
  REQUIRE(by_id.size() >= 8);
  int direct = 0, checked = 0;
  for (auto& [id, sp] : by_id) {
    if (sp["name"] == "core page") {
      ++direct;
      CHECK(sp["kind"] == 4);
    }
    if (sp["name"] == "location_cache locations")
      CHECK(sp["kind"] == 5);
    auto parent = by_id.find(sp.value("parentSpanId", std::string()));
    if (parent == by_id.end())
      continue;
    ++checked;
    auto start = std::stoll(sp["startTimeUnixNano"].get<std::string>());
    auto end = std::stoll(sp["endTimeUnixNano"].get<std::string>());
    auto pstart = std::stoll(parent->second["startTimeUnixNano"].get<std::string>());
    auto pend = std::stoll(parent->second["endTimeUnixNano"].get<std::string>());
    INFO(sp["name"] << " under " << parent->second["name"]);
    CHECK(start >= pstart);
    if (sp["kind"] == 5)
      CHECK(parent->second["kind"] == 4); // a CONSUMER hangs under a PRODUCER, and may outlive it
    else
      CHECK(end <= pend);
  }
  CHECK(direct >= 1); // the page after the write went straight to the user's actor
  CHECK(checked >= 5);
}
