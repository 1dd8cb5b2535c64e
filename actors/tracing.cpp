#include "actors/tracing.hpp"

#include <algorithm>
#include <fstream>
#include <random>
#include <unordered_map>


namespace booking {

namespace {

int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1; // upper case is not allowed by W3C Trace Context
}

template <std::size_t N>
bool parse_hex(std::string_view s, std::array<std::uint8_t, N>& out) {
  if (s.size() != 2 * N)
    return false;
  for (std::size_t i = 0; i < N; ++i) {
    int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return false;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
}

template <std::size_t N>
bool all_zero(const std::array<std::uint8_t, N>& a) {
  return std::all_of(a.begin(), a.end(), [](std::uint8_t b) { return b == 0; });
}

nlohmann::json attr_json(const attribute_value& v) {
  using nlohmann::json;
  if (auto s = std::get_if<std::string>(&v))
    return json{{"stringValue", *s}};
  if (auto i = std::get_if<std::int64_t>(&v))
    return json{{"intValue", std::to_string(*i)}}; // OTLP/JSON: 64-bit integers are strings
  if (auto d = std::get_if<double>(&v))
    return json{{"doubleValue", *d}};
  return json{{"boolValue", std::get<bool>(v)}};
}

nlohmann::json plain_attr(const attribute_value& v) {
  return std::visit([](const auto& x) { return nlohmann::json(x); }, v);
}

} // namespace

bool trace_context::valid() const { return !all_zero(trace) && !all_zero(span); }

std::optional<trace_context> parse_traceparent(std::string_view h) {
  // version "-" trace-id "-" parent-id "-" flags; version ff is invalid; 00 has exactly 55 chars.
  if (h.size() < 55 || h[2] != '-' || h[35] != '-' || h[52] != '-')
    return std::nullopt;
  std::array<std::uint8_t, 1> version{}, flags{};
  if (!parse_hex(h.substr(0, 2), version) || version[0] == 0xff)
    return std::nullopt;
  if (version[0] == 0 && h.size() != 55)
    return std::nullopt;
  if (h.size() > 55 && h[55] != '-')
    return std::nullopt;
  trace_context c;
  if (!parse_hex(h.substr(3, 32), c.trace) || !parse_hex(h.substr(36, 16), c.span)
      || !parse_hex(h.substr(53, 2), flags))
    return std::nullopt;
  if (!c.valid())
    return std::nullopt;
  c.sampled = (flags[0] & 1) != 0;
  return c;
}

std::string to_hex(const std::uint8_t* data, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s(2 * n, '0');
  for (std::size_t i = 0; i < n; ++i) {
    s[2 * i] = digits[data[i] >> 4];
    s[2 * i + 1] = digits[data[i] & 15];
  }
  return s;
}

std::string format_traceparent(const trace_context& c) {
  return "00-" + to_hex(c.trace) + "-" + to_hex(c.span) + (c.sampled ? "-01" : "-00");
}

bool sampled_by_ratio(const trace_id& id, double rate) {
  if (rate <= 0)
    return false;
  if (rate >= 1)
    return true;
  std::uint64_t r = 0;
  for (std::size_t i = 9; i < 16; ++i)
    r = r << 8 | id[i];
  constexpr double two56 = 72057594037927936.0;
  auto threshold = static_cast<std::uint64_t>((1.0 - rate) * two56);
  return r >= threshold;
}

std::int64_t unix_nanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

span_record hop_span(const hop& h, const span_id& id, const char* actor, const char* message,
                     std::int64_t received_ns) {
  span_record s;
  s.trace = h.ctx.trace;
  s.id = id;
  s.parent = h.ctx.span;
  s.name = std::string(actor) + " " + message;
  s.kind = span_kind::internal;
  s.start_ns = h.sent_ns;
  s.end_ns = unix_nanos();
  s.attr("actor.name", std::string(actor))
    .attr("actor.message", std::string(message))
    .attr("actor.mailbox_wait_us", static_cast<std::int64_t>((received_ns - h.sent_ns) / 1000));
  return s;
}

tracer::tracer(tracer_options opts) : opts_(std::move(opts)) {
  if (!opts_.trace_file.empty() || opts_.otlp_post)
    exporter_ = std::thread{[this] { export_loop(); }};
}

tracer::~tracer() {
  {
    std::lock_guard<std::mutex> g{queue_m_};
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (exporter_.joinable())
    exporter_.join();
}

std::uint64_t tracer::random64() {
  thread_local std::mt19937_64 rng{std::random_device{}() ^ static_cast<std::uint64_t>(unix_nanos())};
  return rng();
}

span_id tracer::new_span_id() {
  span_id s{};
  do {
    auto r = random64();
    for (int i = 0; i < 8; ++i)
      s[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(r >> (8 * i));
  } while (all_zero(s));
  return s;
}

trace_context tracer::start(const std::optional<trace_context>& parent) {
  trace_context c;
  if (parent && parent->valid()) {
    c.trace = parent->trace;
    c.sampled = parent->sampled;
  } else {
    do {
      auto a = random64(), b = random64();
      for (int i = 0; i < 8; ++i) {
        c.trace[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(a >> (8 * i));
        c.trace[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(b >> (8 * i));
      }
    } while (all_zero(c.trace));
    c.sampled = sampled_by_ratio(c.trace, opts_.sample_rate);
  }
  c.span = new_span_id();
  return c;
}

void tracer::record(span_record s) {
  ++recorded_;
  if (opts_.recorded_counter)
    opts_.recorded_counter->Increment();
  {
    std::lock_guard<std::mutex> g{ring_m_};
    ring_.push_back(s);
    while (ring_.size() > opts_.ring_spans)
      ring_.pop_front();
  }
  if (!exporter_.joinable())
    return;
  bool wake = false;
  {
    std::lock_guard<std::mutex> g{queue_m_};
    if (queue_.size() >= opts_.export_queue) {
      ++dropped_;
      if (opts_.dropped_counter)
        opts_.dropped_counter->Increment();
      return;
    }
    queue_.push_back(std::move(s));
    wake = queue_.size() >= opts_.batch_spans;
  }
  if (wake)
    queue_cv_.notify_one();
}

nlohmann::json tracer::recent(std::size_t limit) const {
  using nlohmann::json;
  std::vector<span_record> copy;
  {
    std::lock_guard<std::mutex> g{ring_m_};
    copy.assign(ring_.begin(), ring_.end());
  }
  // Newest trace first: by the latest end time among its spans.
  std::unordered_map<std::string, std::size_t> index;
  std::vector<std::pair<std::int64_t, json>> traces;
  for (auto& s : copy) {
    auto tid = to_hex(s.trace);
    auto it = index.find(tid);
    if (it == index.end()) {
      it = index.emplace(tid, traces.size()).first;
      traces.push_back({0, json{{"trace_id", tid}, {"spans", json::array()}}});
    }
    auto& t = traces[it->second];
    t.first = std::max(t.first, s.end_ns);
    json attrs = json::object();
    for (auto& [k, v] : s.attributes)
      attrs[k] = plain_attr(v);
    json span{{"trace_id", tid},
              {"span_id", to_hex(s.id)},
              {"parent_span_id", all_zero(s.parent) ? std::string() : to_hex(s.parent)},
              {"name", s.name},
              {"kind", static_cast<int>(s.kind)},
              {"start_unix_nano", s.start_ns},
              {"end_unix_nano", s.end_ns},
              {"status", s.error ? "error" : "unset"},
              {"attributes", std::move(attrs)}};
    if (!s.links.empty()) {
      auto links = json::array();
      for (auto& [lt, ls] : s.links)
        links.push_back(json{{"trace_id", to_hex(lt)}, {"span_id", to_hex(ls)}});
      span["links"] = std::move(links);
    }
    t.second["spans"].push_back(std::move(span));
  }
  std::stable_sort(traces.begin(), traces.end(), [](auto& a, auto& b) { return a.first > b.first; });
  json out = json::array();
  for (std::size_t i = 0; i < traces.size() && i < limit; ++i) {
    auto& spans = traces[i].second["spans"];
    std::stable_sort(spans.begin(), spans.end(),
                     [](const json& a, const json& b) { return a["start_unix_nano"] < b["start_unix_nano"]; });
    out.push_back(std::move(traces[i].second));
  }
  return json{{"traces", std::move(out)}};
}

nlohmann::json tracer::otlp_json(const std::vector<span_record>& spans, const std::string& service) {
  using nlohmann::json;
  auto arr = json::array();
  for (auto& s : spans) {
    auto attrs = json::array();
    for (auto& [k, v] : s.attributes)
      attrs.push_back(json{{"key", k}, {"value", attr_json(v)}});
    json span{{"traceId", to_hex(s.trace)},
              {"spanId", to_hex(s.id)},
              {"name", s.name},
              {"kind", static_cast<int>(s.kind)},
              {"startTimeUnixNano", std::to_string(s.start_ns)},
              {"endTimeUnixNano", std::to_string(s.end_ns)},
              {"attributes", std::move(attrs)},
              {"status", s.error ? json{{"code", 2}} : json::object()}};
    if (!all_zero(s.parent))
      span["parentSpanId"] = to_hex(s.parent);
    if (!s.links.empty()) {
      auto links = json::array();
      for (auto& [lt, ls] : s.links)
        links.push_back(json{{"traceId", to_hex(lt)}, {"spanId", to_hex(ls)}});
      span["links"] = std::move(links);
    }
    arr.push_back(std::move(span));
  }
  return json{{"resourceSpans",
               json::array({json{{"resource",
                                  {{"attributes", json::array({json{{"key", "service.name"},
                                                                    {"value", {{"stringValue", service}}}}})}}},
                                 {"scopeSpans", json::array({json{{"scope", {{"name", "booking"}, {"version", "1"}}},
                                                                  {"spans", std::move(arr)}}})}}})}};
}

void tracer::export_batch(std::vector<span_record>& batch) {
  if (batch.empty())
    return;
  std::lock_guard<std::mutex> g{export_m_};
  auto body = otlp_json(batch, opts_.service_name).dump();
  if (!opts_.trace_file.empty()) {
    std::ofstream f{opts_.trace_file, std::ios::app};
    f << body << '\n';
  }
  if (opts_.otlp_post && !opts_.otlp_post(body)) {
    dropped_ += batch.size();
    if (opts_.dropped_counter)
      opts_.dropped_counter->Increment(static_cast<double>(batch.size()));
    batch.clear();
    return;
  }
  exported_ += batch.size();
  batch.clear();
}

void tracer::export_loop() {
  for (;;) {
    std::vector<span_record> batch;
    {
      std::unique_lock<std::mutex> g{queue_m_};
      queue_cv_.wait_for(g, opts_.flush_interval, [this] { return stopping_ || queue_.size() >= opts_.batch_spans; });
      batch.swap(queue_);
      if (stopping_ && batch.empty())
        return;
    }
    export_batch(batch);
  }
}

void tracer::flush() {
  std::vector<span_record> batch;
  {
    std::lock_guard<std::mutex> g{queue_m_};
    batch.swap(queue_);
  }
  export_batch(batch);
}

} // namespace booking
