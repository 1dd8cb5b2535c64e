// A small tracer following the W3C Trace Context and OpenTelemetry specifications (no OTel C++
// SDK is packaged in Debian 12): trace contexts travel inside actor messages, sampled spans go to
// an in-memory ring (GET /debug/traces), to a file as OTLP/JSON lines, and to an OTLP/HTTP
// collector — batched from a background thread with a bounded queue, never blocking a request.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <nlohmann/json.hpp>
#include <prometheus/counter.h>

namespace booking {

using trace_id = std::array<std::uint8_t, 16>;
using span_id = std::array<std::uint8_t, 8>;

/// What travels with a request: its trace, the span that is the parent of the next one, sampled.
struct trace_context {
  trace_id trace{};
  span_id span{};
  bool sampled = false;
  bool valid() const;
};

/// `traceparent` (version 00): nullopt when malformed or when either id is all zeros.
std::optional<trace_context> parse_traceparent(std::string_view header);
std::string format_traceparent(const trace_context& c);
std::string to_hex(const std::uint8_t* data, std::size_t n);
template <std::size_t N>
std::string to_hex(const std::array<std::uint8_t, N>& a) { return to_hex(a.data(), N); }

/// OpenTelemetry's TraceIdRatioBased threshold rule on the last 7 bytes of the trace id.
bool sampled_by_ratio(const trace_id& id, double rate);

std::int64_t unix_nanos();

using attribute_value = std::variant<std::string, std::int64_t, double, bool>;

enum class span_kind { internal = 1, server = 2, client = 3 };

struct span_record {
  trace_id trace{};
  span_id id{};
  span_id parent{}; // all zeros: a root span
  std::string name;
  span_kind kind = span_kind::internal;
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  bool error = false;
  std::vector<std::pair<std::string, attribute_value>> attributes;
  std::vector<std::pair<trace_id, span_id>> links;

  span_record& attr(std::string key, attribute_value v) {
    attributes.emplace_back(std::move(key), std::move(v));
    return *this;
  }
};

struct tracer_options {
  double sample_rate = 0.05;
  std::size_t ring_spans = 20000;
  std::string trace_file;    // OTLP/JSON lines
  /// Sends one OTLP/JSON body to the collector; true on a 2xx. Empty: no OTLP export. The HTTP
  /// front-end supplies it (POST {--otlp-endpoint}/v1/traces), keeping this file free of HTTP.
  std::function<bool(const std::string& body)> otlp_post;
  std::size_t export_queue = 8192;
  std::chrono::milliseconds flush_interval{1000};
  std::size_t batch_spans = 512;
  std::string service_name = "booking-server";
  /// Optional counters of recorded and dropped spans (booking_trace_spans_total{result}).
  prometheus::Counter* recorded_counter = nullptr;
  prometheus::Counter* dropped_counter = nullptr;
};

class tracer {
public:
  explicit tracer(tracer_options opts);
  ~tracer();
  tracer(const tracer&) = delete;
  tracer& operator=(const tracer&) = delete;

  /// The context of a new server span: child of a valid incoming parent (parent-based sampling),
  /// else a new trace sampled by ratio.
  trace_context start(const std::optional<trace_context>& parent);
  span_id new_span_id();
  /// Records a finished span. Callers record spans of sampled traces only.
  void record(span_record s);

  /// `{"traces": [...]}`, newest trace first, at most `limit` traces.
  nlohmann::json recent(std::size_t limit) const;
  std::uint64_t recorded() const { return recorded_.load(); }
  std::uint64_t dropped() const { return dropped_.load(); }
  std::uint64_t exported() const { return exported_.load(); }
  double sample_rate() const { return opts_.sample_rate; }
  /// Writes out everything queued (bounded by one export attempt); used at shutdown and in tests.
  void flush();

  /// OTLP/JSON `{"resourceSpans": [...]}` of a batch.
  static nlohmann::json otlp_json(const std::vector<span_record>& spans, const std::string& service);

private:
  void export_loop();
  void export_batch(std::vector<span_record>& batch);
  std::uint64_t random64();

  tracer_options opts_;
  mutable std::mutex ring_m_;
  std::deque<span_record> ring_;
  std::mutex queue_m_;
  std::condition_variable queue_cv_;
  std::vector<span_record> queue_;
  bool stopping_ = false;
  std::atomic<std::uint64_t> recorded_{0}, dropped_{0}, exported_{0};
  std::thread exporter_;
  std::mutex export_m_; // one export at a time (the thread, or flush)
};

/// Nanoseconds on the wall clock at which a message was sent, to measure its mailbox wait.
struct hop {
  trace_context ctx;
  std::int64_t sent_ns = 0;
};

/// The span of one actor hop: from when its message was sent until now, with the mailbox wait.
span_record hop_span(const hop& h, const span_id& id, const char* actor, const char* message,
                     std::int64_t received_ns);

} // namespace booking

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(booking::trace_context)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(booking::hop)
