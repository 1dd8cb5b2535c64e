// The tracer: W3C propagation, ratio sampling, OTLP/JSON encoding, the ring, and the span tree of
// coalesced requests through the real actors (deterministic scheduler).
#include <doctest/doctest.h>

#include <random>
#include <regex>

#include "actor_fixture.hpp"
#include "telemetry/child_span.hpp"
#include "telemetry/otlp_json.hpp"
#include "telemetry/tracer.hpp"

using namespace booking;
using namespace booking::test;
using nlohmann::json;

TEST_CASE("traceparent: valid, malformed, all-zero, unsampled") {
  auto ok = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  REQUIRE(ok);
  CHECK(ok->sampled);
  CHECK(to_hex(ok->trace) == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(to_hex(ok->span) == "00f067aa0ba902b7");
  CHECK(format_traceparent(*ok) == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  auto off = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  REQUIRE(off);
  CHECK(!off->sampled);
  CHECK(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later")); // future version
  for (auto bad : {"", "00", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
                   "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",  // 00 has exactly 55 chars
                   "00-00000000000000000000000000000000-00f067aa0ba902b7-01",    // zero trace id
                   "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",    // zero span id
                   "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",    // upper case
                   "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // version ff
                   "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
                   "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                   "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-zz"}) {
    INFO(bad);
    CHECK(!parse_traceparent(bad));
  }
}

TEST_CASE("parent-based sampling, else ratio on the trace id") {
  tracer t{tracer_options{}}; // 5%
  auto sampled_parent = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  auto c = t.start(sampled_parent);
  CHECK(c.sampled);
  CHECK(c.trace == sampled_parent->trace);
  CHECK(c.span != sampled_parent->span);
  tracer_options one;
  one.sample_rate = 1.0;
  tracer all{one};
  auto unsampled_parent = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  CHECK(!all.start(unsampled_parent).sampled); // the parent decides
  CHECK(all.start(std::nullopt).sampled);
  tracer_options zero;
  zero.sample_rate = 0.0;
  tracer none{zero};
  CHECK(!none.start(std::nullopt).sampled);
  CHECK(none.start(sampled_parent).sampled);
}

TEST_CASE("the sampled fraction over 100,000 random trace ids is within 0.2 points of the rate") {
  std::mt19937_64 rng{20261125};
  for (double rate : {0.05, 0.01, 0.25, 0.5}) {
    int hits = 0;
    for (int i = 0; i < 100000; ++i) {
      trace_id id;
      auto a = rng(), b = rng();
      for (int k = 0; k < 8; ++k) {
        id[static_cast<size_t>(k)] = static_cast<std::uint8_t>(a >> (8 * k));
        id[static_cast<size_t>(8 + k)] = static_cast<std::uint8_t>(b >> (8 * k));
      }
      bool s = sampled_by_ratio(id, rate);
      CHECK(s == sampled_by_ratio(id, rate)); // deterministic from the id
      hits += s;
    }
    auto fraction = hits / 100000.0;
    INFO("rate " << rate << " sampled " << fraction);
    CHECK(std::abs(fraction - rate) <= 0.002);
  }
  // The threshold rule itself: R >= (1 - p) * 2^56 on the last 7 bytes.
  trace_id id{};
  id[9] = 0xf3; // R = 0xf3 << 48 = 0.949... * 2^56
  CHECK(!sampled_by_ratio(id, 0.05));
  id[9] = 0xf4; // 0.953 * 2^56
  CHECK(sampled_by_ratio(id, 0.05));
}

namespace {

span_id sid(const char* hex16) {
  return parse_traceparent(std::string("00-4bf92f3577b34da6a3ce929d0e0e4736-") + hex16 + "-01")->span;
}

bool lower_hex(const std::string& s, std::size_t n) {
  return s.size() == n && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

} // namespace

TEST_CASE("OTLP/JSON encoding, field by field") {
  auto ctx = *parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  span_record root;
  root.trace = ctx.trace;
  root.id = ctx.span;
  root.name = "GET /{lang}/v2/training/booking";
  root.kind = span_kind::server;
  root.start_ns = 1764000000123456789;
  root.end_ns = 1764000000124456789;
  root.attr("http.response.status_code", std::int64_t{200}).attr("http.route", std::string("/x")).attr("ok", true)
    .attr("ratio", 0.5);
  span_record child;
  child.trace = ctx.trace;
  child.id = sid("1111111111111111");
  child.parent = root.id;
  child.name = "store load_user";
  child.kind = span_kind::client;
  child.start_ns = root.start_ns + 10;
  child.end_ns = root.end_ns - 10;
  child.error = true;
  child.links.emplace_back(ctx.trace, sid("2222222222222222"));
  auto j = tracer::otlp_json({root, child}, "booking-server");
  auto& rs = j["resourceSpans"][0];
  CHECK(rs["resource"]["attributes"][0] == json{{"key", "service.name"}, {"value", {{"stringValue", "booking-server"}}}});
  auto& spans = rs["scopeSpans"][0]["spans"];
  REQUIRE(spans.size() == 2);
  auto& a = spans[0];
  CHECK(a["traceId"] == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(lower_hex(a["traceId"], 32));
  CHECK(a["spanId"] == "00f067aa0ba902b7");
  CHECK(lower_hex(a["spanId"], 16));
  CHECK(!a.contains("parentSpanId"));
  CHECK(a["kind"] == 2);
  CHECK(a["startTimeUnixNano"] == "1764000000123456789"); // nanoseconds as decimal strings
  CHECK(a["endTimeUnixNano"] == "1764000000124456789");
  CHECK(a["status"] == json::object());
  CHECK(a["attributes"][0] == json{{"key", "http.response.status_code"}, {"value", {{"intValue", "200"}}}});
  CHECK(a["attributes"][1]["value"] == json{{"stringValue", "/x"}});
  CHECK(a["attributes"][2]["value"] == json{{"boolValue", true}});
  CHECK(a["attributes"][3]["value"] == json{{"doubleValue", 0.5}});
  auto& b = spans[1];
  CHECK(b["parentSpanId"] == "00f067aa0ba902b7");
  CHECK(b["kind"] == 3);
  CHECK(b["status"]["code"] == 2);
  CHECK(b["links"][0] == json{{"traceId", "4bf92f3577b34da6a3ce929d0e0e4736"}, {"spanId", "2222222222222222"}});
}

TEST_CASE("the ring answers newest trace first and drops the oldest spans") {
  tracer_options o;
  o.ring_spans = 3;
  tracer t{o};
  for (int i = 0; i < 4; ++i) {
    span_record s;
    s.trace = t.start(std::nullopt).trace;
    s.id = t.new_span_id();
    s.name = "span " + std::to_string(i);
    s.start_ns = 1000 + i;
    s.end_ns = 2000 + i;
    t.record(s);
  }
  auto j = t.recent(10);
  REQUIRE(j["traces"].size() == 3);
  CHECK(j["traces"][0]["spans"][0]["name"] == "span 3");
  CHECK(j["traces"][2]["spans"][0]["name"] == "span 1");
  CHECK(t.recent(1)["traces"].size() == 1);
  auto& span = j["traces"][0]["spans"][0];
  for (auto k : {"trace_id", "span_id", "parent_span_id", "name", "start_unix_nano", "end_unix_nano", "attributes"})
    CHECK(span.contains(k));
}

TEST_CASE("export queue is bounded and counts what it drops") {
  tracer_options o;
  o.export_queue = 5;
  o.batch_spans = 1000;
  o.flush_interval = std::chrono::milliseconds{60000};
  std::vector<std::string> bodies;
  o.otlp_post = [&](const std::string& b) {
    bodies.push_back(b);
    return true;
  };
  tracer t{o};
  for (int i = 0; i < 8; ++i) {
    span_record s;
    s.trace = t.start(std::nullopt).trace;
    s.id = t.new_span_id();
    t.record(s);
  }
  CHECK(t.dropped() == 3);
  t.flush();
  REQUIRE(bodies.size() == 1);
  CHECK(json::parse(bodies[0])["resourceSpans"][0]["scopeSpans"][0]["spans"].size() == 5);
  CHECK(t.exported() == 5);
}

TEST_CASE("coalesced requests share one store span, linked from each user_cache span") {
  actor_db data{1};
  tracer_options topts;
  topts.sample_rate = 1.0;
  tracer tr{topts};
  core_options o;
  o.tracing = &tr;
  deterministic t{data.path, o};
  auto user = data.users[0];
  std::vector<trace_context> roots;
  std::vector<slot_ptr> slots;
  for (int i = 0; i < 3; ++i) {
    roots.push_back(tr.start(std::nullopt));
    auto q = query_for(*t.c, user);
    q.trace = hop{roots.back(), unix_nanos()};
    slots.push_back(std::make_shared<reply_slot>());
    caf::anon_send(t.c->directory_for(user), page_atom::value, q, slots.back());
  }
  t.settle();
  for (auto& s : slots)
    CHECK(upcoming_of(take(s)) == 1);
  auto all = tr.recent(10)["traces"];
  REQUIRE(all.size() == 3);
  int store_spans = 0, coalesced = 0;
  std::string load_span_id, load_trace_id, first_cache_span;
  for (auto& trace : all)
    for (auto& s : trace["spans"])
      if (s["name"] == "store load_user") {
        ++store_spans;
        load_span_id = s["span_id"];
        load_trace_id = s["trace_id"];
        CHECK(s["attributes"]["db.system"] == "sqlite");
      }
  CHECK(store_spans == 1);
  CHECK(load_trace_id == to_hex(roots[0].trace)); // the first request started the load
  for (auto& trace : all) {
    std::map<std::string, json> by_name;
    for (auto& s : trace["spans"])
      by_name[s["name"]] = s;
    REQUIRE(by_name.count("user_directory page") == 1);
    REQUIRE(by_name.count("user_cache page") == 1);
    auto& dir = by_name["user_directory page"];
    auto& cache = by_name["user_cache page"];
    CHECK(cache["parent_span_id"] == dir["span_id"]);
    CHECK(dir["attributes"].contains("actor.mailbox_wait_us"));
    CHECK(cache["attributes"]["actor.name"] == "user_cache");
    CHECK(cache["links"][0]["span_id"] == load_span_id);
    if (cache["attributes"]["coalesced"] == true) {
      ++coalesced;
      CHECK(cache["attributes"]["cache.result"] == "coalesced");
      CHECK(by_name.count("store load_user") == 0);
    } else {
      CHECK(by_name["store load_user"]["parent_span_id"] == cache["span_id"]);
    }
  }
  CHECK(coalesced == 2);
}
