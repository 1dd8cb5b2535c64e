// A small tracer following the W3C Trace Context and OpenTelemetry specifications (no OTel C++
// SDK is packaged in Debian 12). Sampled spans go to an in-memory ring (GET /debug/traces), to a
// file as OTLP/JSON lines, and to an OTLP/HTTP collector, batched from a background thread behind
// a bounded queue: recording a span never waits for I/O and never blocks on the exporter.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "telemetry/metrics.hpp"
#include "telemetry/otlp_exporter.hpp"
#include "telemetry/otlp_json.hpp"
#include "telemetry/span.hpp"
#include "telemetry/span_ring.hpp"

namespace booking {

struct tracer_options {
  double sample_rate = 0.05;
  // GET /debug/traces: the last spans, at most this many and this many bytes of them encoded
  // (a server span encodes to about 0.4 KiB; 0 spans: no ring).
  std::size_t ring_spans = 20000;
  std::size_t ring_bytes = std::size_t{8} << 20;
  std::string trace_file; // OTLP/JSON lines
  otlp_exporter_options otlp; // empty endpoint: no OTLP export
  std::size_t export_queue = 8192;
  std::chrono::milliseconds flush_interval{1000};
  std::size_t batch_spans = 512;
  resource_info resource = resource_info::for_this_process();
  metrics* meters = nullptr; // span counters (optional)
};

class tracer {
public:
  explicit tracer(tracer_options opts);
  ~tracer();
  tracer(const tracer&) = delete;
  tracer& operator=(const tracer&) = delete;

  /// The context of a new server span: child of a valid incoming parent (parent-based sampling,
  /// its flags kept), else a new random trace (flag 0x02 set) sampled by ratio.
  trace_context start(const std::optional<trace_context>& parent);
  /// A new sampled trace, whatever the ratio: for a span that must be recorded without a recorded
  /// parent (a store load that a sampled request links to).
  trace_context start_recorded_root();
  span_id new_span_id();
  /// Records a finished span. Callers record spans of sampled traces only.
  void record(span_record s);

  /// `{"traces": [...]}`, newest trace first, at most `limit` traces.
  nlohmann::json recent(std::size_t limit) const;
  std::uint64_t recorded() const { return recorded_.load(); }
  std::uint64_t dropped() const { return dropped_.load(); }
  std::uint64_t exported() const { return exported_.load(); }
  double sample_rate() const { return opts_.sample_rate; }
  /// Spans waiting for the export thread.
  std::size_t queued() const;
  const resource_info& resource() const { return opts_.resource; }
  /// Writes out everything queued now, with the exporter's retries; used in tests.
  void flush();
  /// Stops the export thread after one last, unretried export of what is queued (bounded by the
  /// exporter's timeout). Idempotent; the destructor calls it.
  void shutdown();

private:
  void export_loop();
  void export_batch(std::vector<span_record>& batch);
  void count_dropped(span_drop why, std::size_t n);

  tracer_options opts_;
  // Encoded into one buffer allocated at start: its memory neither grows with the mix of spans nor
  // moves through the HTTP threads' malloc arenas (BENCHMARKS, "The trace ring in one buffer").
  std::unique_ptr<span_ring> ring_;
  mutable std::mutex queue_m_;
  std::condition_variable queue_cv_;
  std::vector<span_record> queue_;
  bool stopping_ = false;
  std::atomic<std::uint64_t> recorded_{0}, dropped_{0}, exported_{0};
  std::unique_ptr<otlp_exporter> exporter_;
  std::ofstream file_;
  std::thread thread_;
  std::mutex export_m_; // one export at a time (the thread, or flush)
};

} // namespace booking
