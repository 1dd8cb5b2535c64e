// The tracer: W3C propagation, ratio sampling, OTLP/JSON encoding, the ring, and the span tree of
// coalesced requests through the real actors (deterministic scheduler).
#include <doctest/doctest.h>

#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <thread>

#include <httplib.h>

#include "actor_fixture.hpp"
#include "telemetry/child_span.hpp"
#include "telemetry/log.hpp"
#include "telemetry/otlp_exporter.hpp"
#include "telemetry/otlp_json.hpp"
#include "telemetry/span_ring.hpp"
#include "telemetry/trace_scope.hpp"
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
  CHECK(!ok->random);
  CHECK(format_traceparent(*ok) == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  auto random = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03");
  REQUIRE(random);
  CHECK(random->sampled);
  CHECK(random->random); // flag 0x02 is kept...
  CHECK(format_traceparent(*random) == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03");
  auto unknown_flags = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-f2");
  REQUIRE(unknown_flags);
  CHECK(format_traceparent(*unknown_flags) == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02"); // ...others not
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
  tracer_options five; // 5%
  tracer t{five};
  auto sampled_parent = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  auto c = t.start(sampled_parent);
  CHECK(c.sampled);
  CHECK(c.trace == sampled_parent->trace);
  CHECK(c.span != sampled_parent->span);
  CHECK(!c.random); // the parent's flags are kept
  CHECK(t.start(std::nullopt).random); // a new trace id is random: flag 0x02 set
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
  auto resource = resource_info::for_this_process();
  auto j = otlp_json({root, child}, resource);
  auto& rs = j["resourceSpans"][0];
  std::map<std::string, json> res;
  for (auto& a : rs["resource"]["attributes"])
    res[a["key"]] = a["value"];
  CHECK(res["service.name"] == json{{"stringValue", "booking-server"}});
  CHECK(res["service.version"] == json{{"stringValue", build_version()}});
  CHECK(std::regex_match(res["service.instance.id"]["stringValue"].get<std::string>(),
                         std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
  CHECK(res["telemetry.sdk.language"] == json{{"stringValue", "cpp"}});
  CHECK(res.count("telemetry.sdk.name") == 1);
  CHECK(res.count("telemetry.sdk.version") == 1);
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

TEST_CASE("span text is valid UTF-8 and bounded, whatever bytes a request carried") {
  CHECK(span_text("plain /en/v2?x=1") == "plain /en/v2?x=1");
  CHECK(span_text("caf\xC3\xA9 \xE5\x8F\xB0 \xF0\x9F\x98\x80") == "caf\xC3\xA9 \xE5\x8F\xB0 \xF0\x9F\x98\x80");
  const std::string fffd = "\xEF\xBF\xBD";
  CHECK(span_text("a\xFFz") == "a" + fffd + "z");
  CHECK(span_text("\xC0\xAF") == fffd + fffd);                 // overlong
  CHECK(span_text("\xE0\x80\x80") == fffd + fffd + fffd);      // overlong
  CHECK(span_text("\xED\xA0\x80") == fffd + fffd + fffd);      // a surrogate
  CHECK(span_text("\xF4\x90\x80\x80") == fffd + fffd + fffd + fffd); // past U+10FFFF
  CHECK(span_text("\xE5\x8F") == fffd + fffd);                  // cut short
  CHECK(span_text(std::string(600, 'x')).size() == span_text_max);
  CHECK(span_text("ab\xE5\x8F\xB0", 4) == "ab"); // never cut inside a character
  CHECK(nlohmann::json(span_text("\xFF\xFE\x80 \xC3")).dump().size() > 0); // the encoder takes it
}

TEST_CASE("a ring that wrapped several times keeps exactly the newest spans, in order") {
  tracer_options o;
  o.ring_spans = 3;
  tracer t{o};
  auto trace = t.start(std::nullopt).trace;
  for (int i = 0; i < 8; ++i) {
    span_record s;
    s.trace = trace; // one trace: the answer lists its spans by start time
    s.id = t.new_span_id();
    s.name = "span " + std::to_string(i);
    s.start_ns = 1000 + i;
    s.end_ns = 2000 + i;
    if (i % 2 == 0) // a slot reused by a record with fewer attributes keeps none of the old ones
      s.attr("booking.i", std::int64_t{i}).attr("booking.even", true);
    t.record(s);
  }
  auto j = t.recent(10);
  REQUIRE(j["traces"].size() == 1);
  auto& spans = j["traces"][0]["spans"];
  REQUIRE(spans.size() == 3);
  CHECK(spans[0]["name"] == "span 5");
  CHECK(spans[1]["name"] == "span 6");
  CHECK(spans[2]["name"] == "span 7");
  CHECK(spans[0]["attributes"].empty());
  CHECK(spans[1]["attributes"] == json{{"booking.i", 6}, {"booking.even", true}});
  CHECK(spans[2]["attributes"].empty());
}

namespace {

span_record ring_span(int i, std::size_t text = 0) {
  span_record s;
  s.trace[0] = static_cast<std::uint8_t>(i);
  s.id[7] = static_cast<std::uint8_t>(i);
  s.name = "span " + std::to_string(i);
  s.start_ns = 1000 + i;
  s.end_ns = 2000 + i;
  if (text > 0)
    s.attr("booking.text", std::string(text, 'x'));
  return s;
}

} // namespace

TEST_CASE("the span ring gives back every field and attribute type as recorded") {
  span_ring ring{4, 4096};
  span_record s;
  s.trace = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")->trace;
  s.id = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")->span;
  s.parent[0] = 9;
  s.name = "GET /{lang}/v2/training/booking";
  s.kind = span_kind::consumer;
  s.start_ns = -5;
  s.end_ns = std::int64_t{1} << 62;
  s.error = true;
  s.attr("text", std::string("caf\xC3\xA9\0nul", 9)).attr("empty", std::string()).attr("int", std::int64_t{-42});
  s.attr("double", 0.25).attr("bool", false).attr("", true);
  s.links.emplace_back(s.trace, s.parent);
  s.links.emplace_back(trace_id{}, span_id{});
  REQUIRE(ring.push(s));
  auto back = ring.spans();
  REQUIRE(back.size() == 1);
  auto& b = back[0];
  CHECK(b.trace == s.trace);
  CHECK(b.id == s.id);
  CHECK(b.parent == s.parent);
  CHECK(b.name == s.name);
  CHECK(b.kind == span_kind::consumer);
  CHECK(b.start_ns == -5);
  CHECK(b.end_ns == s.end_ns);
  CHECK(b.error);
  CHECK(b.attributes == s.attributes);
  CHECK(b.links == s.links);
}

TEST_CASE("the span ring is bounded in bytes: the oldest spans go, whatever their sizes") {
  // 1,000 bytes; each span below encodes to a little over 100 bytes plus its text.
  span_ring ring{100, 1000};
  for (int i = 0; i < 50; ++i)
    REQUIRE(ring.push(ring_span(i, (i * 37) % 300)));
  auto kept = ring.spans();
  REQUIRE_FALSE(kept.empty());
  std::size_t text = 0;
  for (std::size_t k = 0; k < kept.size(); ++k) {
    // The newest spans, in order, without a gap.
    CHECK(kept[k].name == "span " + std::to_string(50 - static_cast<int>(kept.size()) + static_cast<int>(k)));
    if (!kept[k].attributes.empty())
      text += std::get<std::string>(kept[k].attributes[0].second).size();
  }
  CHECK(kept.back().name == "span 49");
  CHECK(text < 1000);
  // One span larger than the whole buffer is not kept, and the others stay.
  CHECK_FALSE(ring.push(ring_span(50, 2000)));
  CHECK(ring.spans().size() == kept.size());
  // One span that fills nearly all of it leaves only itself.
  REQUIRE(ring.push(ring_span(51, 850)));
  auto alone = ring.spans();
  REQUIRE(alone.size() == 1);
  CHECK(alone[0].name == "span 51");
}

TEST_CASE("the span ring answers the newest traces only, each capped, without decoding the rest") {
  span_ring ring{100, 1 << 20};
  // Traces 1..5, interleaved; trace 2 ends last, trace 4 has six spans; traces 3 and 5 end together.
  auto add = [&](int trace, int i, std::int64_t end) {
    auto s = ring_span(i);
    s.trace = trace_id{};
    s.trace[0] = static_cast<std::uint8_t>(trace);
    s.start_ns = 100 - i; // later spans start earlier: the answer keeps the ring's order per trace
    s.end_ns = end;
    ring.push(s);
  };
  add(1, 0, 10);
  add(2, 1, 20);
  add(3, 2, 30);
  for (int i = 3; i < 9; ++i)
    add(4, i, 15);
  add(5, 9, 30);
  add(2, 10, 90);
  auto two = ring.newest_traces(2, 1000);
  REQUIRE(two.size() == 2);
  CHECK(two[0][0].trace[0] == 2);
  REQUIRE(two[0].size() == 2);
  CHECK(two[0][0].name == "span 1");
  CHECK(two[0][1].name == "span 10");
  CHECK(two[1][0].trace[0] == 3); // ends with 5; it appeared first
  auto all = ring.newest_traces(10, 4);
  REQUIRE(all.size() == 5);
  std::vector<int> order;
  for (auto& t : all)
    order.push_back(t[0].trace[0]);
  CHECK(order == std::vector<int>{2, 3, 5, 4, 1});
  REQUIRE(all[3].size() == 4); // trace 4 capped at its first four spans
  CHECK(all[3][0].name == "span 3");
  CHECK(all[3][3].name == "span 6");
  CHECK(ring.newest_traces(0, 10).empty());
  // Traces pushed out of the buffer are not answered.
  span_ring small{100, 300};
  for (int i = 0; i < 10; ++i)
    small.push(ring_span(i, 100));
  auto kept = small.spans();
  auto newest = small.newest_traces(100, 100);
  REQUIRE(newest.size() == kept.size());
  CHECK(newest[0][0].name == "span 9");
  CHECK(newest.back()[0].name == kept.front().name);
}

TEST_CASE("the span ring keeps exactly the newest spans under concurrent recording") {
  span_ring ring{64, 64 * 1024};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&ring, t] {
      for (int i = 0; i < 2000; ++i)
        ring.push(ring_span(t * 10000 + i, static_cast<std::size_t>(i % 7) * 40));
    });
  for (int r = 0; r < 50; ++r) // readers meanwhile see whole spans only
    for (auto& s : ring.spans())
      CHECK(s.name.rfind("span ", 0) == 0);
  for (auto& th : threads)
    th.join();
  auto kept = ring.spans();
  CHECK(kept.size() == 64); // 64 spans of at most ~400 bytes fit in 64 KiB
  std::map<int, int> last; // per thread, spans come in the order that thread recorded them
  for (auto& s : kept) {
    int i = std::stoi(s.name.substr(5));
    auto it = last.find(i / 10000);
    if (it != last.end())
      CHECK(i % 10000 > it->second);
    last[i / 10000] = i % 10000;
  }
}

TEST_CASE("export queue is bounded and counts what it drops, by reason") {
  std::mutex m;
  std::vector<std::string> bodies;
  httplib::Server rx;
  rx.Post("/v1/traces", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> g{m};
    bodies.push_back(req.body);
    res.set_content(R"({"partialSuccess":{"rejectedSpans":"2","errorMessage":"too old"}})", "application/json");
  });
  int port = rx.bind_to_any_port("127.0.0.1");
  std::thread th{[&] { rx.listen_after_bind(); }};
  {
    metrics meters;
    tracer_options o;
    o.export_queue = 5;
    o.batch_spans = 1000;
    o.flush_interval = std::chrono::milliseconds{60000};
    o.otlp.endpoint = "http://127.0.0.1:" + std::to_string(port);
    o.meters = &meters;
    tracer t{o};
    for (int i = 0; i < 8; ++i) {
      span_record s;
      s.trace = t.start(std::nullopt).trace;
      s.id = t.new_span_id();
      t.record(s);
    }
    CHECK(t.dropped() == 3);
    CHECK(meters.spans_dropped_by[static_cast<int>(span_drop::queue_full)]->Value() == 3);
    t.flush();
    std::lock_guard<std::mutex> g{m};
    REQUIRE(bodies.size() == 1);
    CHECK(json::parse(bodies[0])["resourceSpans"][0]["scopeSpans"][0]["spans"].size() == 5);
    CHECK(t.exported() == 3); // a partial success: 2 of 5 rejected
    CHECK(meters.spans_dropped_by[static_cast<int>(span_drop::rejected)]->Value() == 2);
    CHECK(meters.spans_exported_->Value() == 3);
  }
  rx.stop();
  th.join();
}

TEST_CASE("child_span: records only sampled traces, once, with typed attributes and links") {
  tracer_options o;
  o.sample_rate = 1.0;
  tracer t{o};
  auto root = t.start(std::nullopt);
  auto off = root;
  off.sampled = false;
  {
    child_span none{&t, "nothing", off};
    CHECK(!none);
    none.set("k", "v").set("n", 3).fail("x");
    child_span no_tracer{nullptr, "nothing", root};
    CHECK(!no_tracer);
  }
  CHECK(t.recorded() == 0);
  span_id first{};
  {
    child_span s{&t, "work", root, span_kind::producer};
    REQUIRE(s);
    first = s.id();
    s.set("booking.n", 3).set("booking.ok", true).set("booking.s", "x").set("booking.d", 0.5).link(root.trace, root.span);
    CHECK_THROWS_AS(s.run([]() -> int { throw std::runtime_error("boom"); }), std::runtime_error);
    s.end();
    s.end(); // once
  }
  CHECK(t.recorded() == 1);
  auto spans = t.recent(1)["traces"][0]["spans"];
  REQUIRE(spans.size() == 1);
  auto& s = spans[0];
  CHECK(s["span_id"] == to_hex(first));
  CHECK(s["parent_span_id"] == to_hex(root.span));
  CHECK(s["kind"] == 4);
  CHECK(s["status"] == "error");
  CHECK(s["attributes"]["error.type"] == "std::runtime_error");
  CHECK(s["attributes"]["booking.n"] == 3);
  CHECK(s["attributes"]["booking.ok"] == true);
  CHECK(s["links"][0]["span_id"] == to_hex(root.span));
  {
    trace_scope in_request{root};
    auto db = store_span(&t, "find_token"); // the parent comes from the thread's request scope
    CHECK(db);
  }
  CHECK(t.recorded() == 2);
  auto store = t.recent(1)["traces"][0]["spans"][1];
  CHECK(store["name"] == "store find_token");
  CHECK(store["kind"] == 3);
  CHECK(store["attributes"]["db.system.name"] == "sqlite");
  CHECK(store["attributes"]["db.operation.name"] == "find_token");
  CHECK(!store_span(&t, "find_token", std::nullopt)); // outside a request: nothing
}

namespace {

/// SPEC §7's structure over every recorded span: one root per trace, every parent and link
/// resolves to a recorded span, a child starts no earlier than its parent and ends no later,
/// unless it is a CONSUMER of a PRODUCER.
void check_structure(const json& traces) {
  std::map<std::string, json> by_id;
  for (auto& t : traces)
    for (auto& s : t["spans"])
      by_id[s["span_id"]] = s;
  for (auto& t : traces) {
    int roots = 0;
    for (auto& s : t["spans"]) {
      INFO(s.dump());
      if (s["parent_span_id"] == "") {
        ++roots;
      } else {
        REQUIRE(by_id.count(s["parent_span_id"]) == 1);
        auto& p = by_id[s["parent_span_id"]];
        CHECK(p["trace_id"] == s["trace_id"]);
        CHECK(s["start_unix_nano"].get<std::int64_t>() >= p["start_unix_nano"].get<std::int64_t>());
        if (!(s["kind"] == 5 && p["kind"] == 4))
          CHECK(s["end_unix_nano"].get<std::int64_t>() <= p["end_unix_nano"].get<std::int64_t>());
      }
      if (s.contains("links"))
        for (auto& l : s["links"])
          CHECK(by_id.count(l["span_id"]) == 1);
    }
    CHECK(roots == 1);
  }
}

/// The traces of `recent`, without background location refreshes (their own traces).
json without_refreshes(const json& traces) {
  auto out = json::array();
  for (auto& t : traces)
    if (!(t["spans"].size() == 1 && t["spans"][0]["name"] == "store locations"))
      out.push_back(t);
  return out;
}

/// A server span of its own for each request, as the HTTP front-end records it.
struct request_root {
  child_span server;
  hop next;
  request_root(tracer& t, const std::optional<trace_context>& parent) {
    auto c = t.start(parent);
    server = child_span::with_context(&t, "GET /booking", c, std::nullopt, span_kind::server, unix_nanos());
    next = hop{c, unix_nanos()};
  }
};

} // namespace

TEST_CASE("coalesced requests: one load span, a child of the miss; the coalesced ones link to it") {
  actor_db data{1};
  tracer_options topts;
  topts.sample_rate = 1.0;
  tracer tr{topts};
  core_options o;
  o.tracing = &tr;
  deterministic t{data.path, o};
  auto user = data.users[0];
  std::vector<std::unique_ptr<request_root>> roots;
  std::vector<slot_ptr> slots;
  for (int i = 0; i < 3; ++i) {
    roots.push_back(std::make_unique<request_root>(tr, std::nullopt));
    auto q = query_for(*t.c, user);
    q.trace = roots.back()->next;
    slots.push_back(std::make_shared<reply_slot>());
    caf::anon_send(t.c->directory_for(user), page_atom::value, q, reply_ptr{slots.back()});
  }
  t.settle();
  for (auto& s : slots)
    CHECK(upcoming_of(take(s)) == 1);
  roots.clear(); // the server spans end
  auto all = without_refreshes(tr.recent(10)["traces"]);
  REQUIRE(all.size() == 3);
  check_structure(all);
  int store_spans = 0, coalesced = 0;
  std::string load_span_id, load_trace_id;
  for (auto& trace : all)
    for (auto& s : trace["spans"])
      if (s["name"] == "store load_user") {
        ++store_spans;
        load_span_id = s["span_id"];
        load_trace_id = s["trace_id"];
        CHECK(s["attributes"]["db.system.name"] == "sqlite");
        CHECK(s["attributes"]["db.operation.name"] == "load_user");
        CHECK(s["kind"] == 3);
      }
  CHECK(store_spans == 1);
  for (auto& trace : all) {
    std::map<std::string, json> by_name;
    for (auto& s : trace["spans"])
      by_name[s["name"]] = s;
    REQUIRE(by_name.count("user_directory page") == 1);
    REQUIRE(by_name.count("user_cache page") == 1);
    auto& dir = by_name["user_directory page"];
    auto& cache = by_name["user_cache page"];
    CHECK(dir["kind"] == 4);   // PRODUCER: hands the request on
    CHECK(cache["kind"] == 5); // CONSUMER: may end after it
    CHECK(cache["parent_span_id"] == dir["span_id"]);
    CHECK(dir["attributes"].contains("booking.actor.mailbox_wait_us"));
    CHECK(cache["attributes"]["booking.actor.name"] == "user_cache");
    if (cache["attributes"]["booking.cache.result"] == "coalesced") {
      ++coalesced;
      CHECK(cache["attributes"]["booking.cache.coalesced"] == true);
      CHECK(cache["links"][0]["span_id"] == load_span_id);
      CHECK(by_name.count("store load_user") == 0);
    } else {
      CHECK(cache["attributes"]["booking.cache.result"] == "miss");
      CHECK(!cache.contains("links")); // no link to its own child
      CHECK(by_name["store load_user"]["parent_span_id"] == cache["span_id"]);
    }
  }
  CHECK(coalesced == 2);
}

TEST_CASE("a load started by an unsampled request is recorded as its own root when a sampled one waits") {
  actor_db data{1};
  tracer_options topts;
  topts.sample_rate = 1.0;
  tracer tr{topts};
  core_options o;
  o.tracing = &tr;
  deterministic t{data.path, o};
  auto user = data.users[0];
  auto unsampled = parse_traceparent("00-11111111111111111111111111111111-2222222222222222-00");
  std::vector<std::unique_ptr<request_root>> roots;
  std::vector<slot_ptr> slots;
  for (int i = 0; i < 3; ++i) {
    roots.push_back(std::make_unique<request_root>(tr, i == 0 ? unsampled : std::nullopt));
    auto q = query_for(*t.c, user);
    q.trace = roots.back()->next;
    slots.push_back(std::make_shared<reply_slot>());
    caf::anon_send(t.c->directory_for(user), page_atom::value, q, reply_ptr{slots.back()});
  }
  t.settle();
  for (auto& s : slots)
    CHECK(upcoming_of(take(s)) == 1);
  roots.clear();
  auto all = without_refreshes(tr.recent(10)["traces"]);
  REQUIRE(all.size() == 3); // two sampled requests and the load
  check_structure(all);
  std::string load_span_id;
  for (auto& trace : all) {
    CHECK(trace["trace_id"] != "11111111111111111111111111111111");
    for (auto& s : trace["spans"])
      if (s["name"] == "store load_user") {
        CHECK(s["parent_span_id"] == "");
        CHECK(trace["spans"].size() == 1);
        load_span_id = s["span_id"];
      }
  }
  REQUIRE(!load_span_id.empty());
  int linked = 0;
  for (auto& trace : all)
    for (auto& s : trace["spans"])
      if (s["name"] == "user_cache page") {
        CHECK(s["attributes"]["booking.cache.result"] == "coalesced");
        CHECK(s["links"][0]["span_id"] == load_span_id);
        ++linked;
      }
  CHECK(linked == 2);
}

namespace {

/// A local collector whose answers a test scripts: each POST takes the next status (the last one
/// repeats); "hang" sleeps past the exporter's timeout. Records the client port of each request.
struct scripted_collector {
  httplib::Server svr;
  std::mutex m;
  std::vector<std::string> script;
  std::vector<int> client_ports;
  std::vector<std::chrono::steady_clock::time_point> arrivals;
  int port = 0;
  std::thread th;
  explicit scripted_collector(std::vector<std::string> s) : script(std::move(s)) {
    svr.Post("/v1/traces", [this](const httplib::Request& req, httplib::Response& res) {
      std::string step;
      {
        std::lock_guard<std::mutex> g{m};
        step = script[std::min(arrivals.size(), script.size() - 1)];
        arrivals.push_back(std::chrono::steady_clock::now());
        client_ports.push_back(req.remote_port);
      }
      if (step == "hang") {
        std::this_thread::sleep_for(std::chrono::milliseconds{700});
        step = "200";
      }
      auto space = step.find(' '); // "429 1": status and Retry-After
      res.status = std::stoi(step.substr(0, space));
      if (space != std::string::npos)
        res.set_header("Retry-After", step.substr(space + 1));
      res.set_content("{}", "application/json");
    });
    port = svr.bind_to_any_port("127.0.0.1");
    th = std::thread{[this] { svr.listen_after_bind(); }};
  }
  ~scripted_collector() {
    svr.stop();
    th.join();
  }
  std::size_t requests() {
    std::lock_guard<std::mutex> g{m};
    return arrivals.size();
  }
};

otlp_exporter_options fast(int port) {
  otlp_exporter_options o;
  o.endpoint = "http://127.0.0.1:" + std::to_string(port);
  o.first_backoff = std::chrono::milliseconds{50};
  o.max_backoff = std::chrono::milliseconds{400};
  o.timeout = std::chrono::milliseconds{300};
  o.max_attempts = 4;
  return o;
}

const std::string body = R"({"resourceSpans":[]})";

} // namespace

TEST_CASE("OTLP export: 429 and 503 are retried with backoff, Retry-After honoured, one kept-alive connection") {
  scripted_collector rx{{"429 1", "503", "200", "200", "200"}};
  metrics meters;
  otlp_exporter ex{fast(rx.port), &meters};
  auto t0 = std::chrono::steady_clock::now();
  auto out = ex.send(body, 7);
  auto took = std::chrono::steady_clock::now() - t0;
  CHECK(out.accepted == 7);
  CHECK(out.dropped == 0);
  CHECK(out.attempts == 3);
  CHECK(meters.export_retries->Value() == 2);
  CHECK(took >= std::chrono::milliseconds{1000 + 100}); // Retry-After: 1, then the doubled backoff
  CHECK(took < std::chrono::seconds{3});
  std::lock_guard<std::mutex> g{rx.m};
  REQUIRE(rx.arrivals.size() == 3);
  CHECK(rx.arrivals[1] - rx.arrivals[0] >= std::chrono::milliseconds{1000});
  CHECK(rx.arrivals[2] - rx.arrivals[1] >= std::chrono::milliseconds{100});
  CHECK(rx.client_ports[0] == rx.client_ports[2]); // the connection is kept alive
}

TEST_CASE("OTLP export: 500 is not retried; the spans are dropped as non_retryable") {
  scripted_collector rx{{"500"}};
  metrics meters;
  tracer_options o;
  o.otlp = fast(rx.port);
  o.meters = &meters;
  o.flush_interval = std::chrono::milliseconds{60000};
  tracer t{o};
  for (int i = 0; i < 3; ++i) {
    span_record s;
    s.trace = t.start(std::nullopt).trace;
    s.id = t.new_span_id();
    t.record(s);
  }
  t.flush();
  CHECK(rx.requests() == 1);
  CHECK(t.dropped() == 3);
  CHECK(meters.spans_dropped_by[static_cast<int>(span_drop::non_retryable)]->Value() == 3);
  CHECK(meters.export_retries->Value() == 0);
}

TEST_CASE("OTLP export: a collector that hangs or is down costs bounded attempts, then the spans are dropped") {
  SUBCASE("hangs") {
    scripted_collector rx{{"hang"}};
    metrics meters;
    otlp_exporter ex{fast(rx.port), &meters};
    auto t0 = std::chrono::steady_clock::now();
    auto out = ex.send(body, 4);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds{4}); // 4 timeouts + backoff
    CHECK(out.attempts == 4);
    CHECK(out.dropped == 4);
    CHECK(out.reason == span_drop::retries_exhausted);
  }
  SUBCASE("is down") {
    int dead = refused_port();
    REQUIRE(dead > 0);
    metrics meters;
    otlp_exporter ex{fast(dead), &meters};
    auto t0 = std::chrono::steady_clock::now();
    auto out = ex.send(body, 2);
    auto took = std::chrono::steady_clock::now() - t0;
    CHECK(out.attempts == 4);
    CHECK(out.reason == span_drop::retries_exhausted);
    CHECK(meters.export_retries->Value() == 3);
    CHECK(took >= std::chrono::milliseconds{50 + 100 + 200}); // exponential backoff
    CHECK(took < std::chrono::seconds{3});
  }
  SUBCASE("shutdown cuts the retries short") {
    scripted_collector rx{{"503 5"}};
    otlp_exporter ex{fast(rx.port), nullptr};
    std::thread stopper{[&] {
      std::this_thread::sleep_for(std::chrono::milliseconds{200});
      ex.interrupt();
    }};
    auto t0 = std::chrono::steady_clock::now();
    auto out = ex.send(body, 1);
    stopper.join();
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds{1}); // not the 5 s Retry-After
    CHECK(out.dropped == 1);
  }
}

TEST_CASE("partial success: rejectedSpans as a string or a number") {
  CHECK(otlp_rejected_spans(R"({"partialSuccess":{"rejectedSpans":"3"}})") == 3);
  CHECK(otlp_rejected_spans(R"({"partialSuccess":{"rejectedSpans":4,"errorMessage":"x"}})") == 4);
  CHECK(otlp_rejected_spans(R"({"partialSuccess":{}})") == 0);
  CHECK(otlp_rejected_spans("{}") == 0);
  CHECK(otlp_rejected_spans("not json") == 0);
}

TEST_CASE("logfmt values: plain, or quoted with escapes") {
  CHECK(logfmt_value("plain") == "plain");
  CHECK(logfmt_value("") == R"("")");
  CHECK(logfmt_value("two words") == R"("two words")");
  CHECK(logfmt_value(R"(say "hi")") == R"("say \"hi\"")");
  CHECK(logfmt_value("a=b") == R"("a=b")");
  CHECK(logfmt_value("back\\slash") == R"("back\\slash")");
  CHECK(logfmt_value("line\nbreak\ttab\x01") == R"("line\nbreak\ttab\u0001")");
  CHECK(std::regex_match(rfc3339_millis_now(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
}
