#include "telemetry/tracer.hpp"

#include <algorithm>

namespace booking {

tracer::tracer(tracer_options opts) : opts_(std::move(opts)) {
  if (opts_.ring_spans > 0 && opts_.ring_bytes > 0)
    ring_ = std::make_unique<span_ring>(opts_.ring_spans, opts_.ring_bytes);
  if (!opts_.otlp.endpoint.empty())
    exporter_ = std::make_unique<otlp_exporter>(opts_.otlp, opts_.meters);
  if (!opts_.trace_file.empty())
    file_.open(opts_.trace_file, std::ios::app);
  if (exporter_ || file_.is_open())
    thread_ = std::thread{[this] { export_loop(); }};
}

tracer::~tracer() { shutdown(); }

void tracer::shutdown() {
  {
    std::lock_guard<std::mutex> g{queue_m_};
    if (stopping_)
      return;
    stopping_ = true;
  }
  if (exporter_)
    exporter_->interrupt();
  queue_cv_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

span_id tracer::new_span_id() { return random_span_id(); }

trace_context tracer::start(const std::optional<trace_context>& parent) {
  trace_context c;
  if (parent && parent->valid()) {
    c = *parent;
  } else {
    c.trace = random_trace_id();
    c.random = true;
    c.sampled = sampled_by_ratio(c.trace, opts_.sample_rate);
  }
  c.span = new_span_id();
  return c;
}

trace_context tracer::start_recorded_root() {
  trace_context c;
  c.trace = random_trace_id();
  c.random = true;
  c.sampled = true;
  c.span = new_span_id();
  return c;
}

void tracer::count_dropped(span_drop why, std::size_t n) {
  dropped_ += n;
  if (opts_.meters)
    opts_.meters->spans_dropped(why, static_cast<double>(n));
}

void tracer::record(span_record s) {
  ++recorded_;
  if (opts_.meters)
    opts_.meters->span_recorded();
  bool exporting = thread_.joinable();
  if (ring_)
    ring_->push(s);
  if (!exporting)
    return;
  bool wake = false;
  {
    std::lock_guard<std::mutex> g{queue_m_};
    if (queue_.size() >= opts_.export_queue || stopping_) {
      count_dropped(span_drop::queue_full, 1);
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
  // A client can put every request into one trace (its own traceparent): at most this many spans of
  // a trace are answered, so one answer stays a bounded size.
  constexpr std::size_t max_spans_per_trace = 1000;
  auto traces = ring_ ? ring_->newest_traces(limit, max_spans_per_trace) : std::vector<std::vector<span_record>>{};
  json out = json::array();
  for (auto& t : traces) { // newest trace first: by the latest end time among its spans
    std::stable_sort(t.begin(), t.end(), [](const span_record& a, const span_record& b) { return a.start_ns < b.start_ns; });
    auto tid = to_hex(t.front().trace);
    json spans = json::array();
    for (auto& s : t) {
      json span{{"trace_id", tid},
                {"span_id", to_hex(s.id)},
                {"parent_span_id", all_zero(s.parent) ? std::string() : to_hex(s.parent)},
                {"name", s.name},
                {"kind", static_cast<int>(s.kind)},
                {"start_unix_nano", s.start_ns},
                {"end_unix_nano", s.end_ns},
                {"status", s.error ? "error" : "unset"},
                {"attributes", plain_attributes(s)}};
      if (!s.links.empty()) {
        auto links = json::array();
        for (auto& [lt, ls] : s.links)
          links.push_back(json{{"trace_id", to_hex(lt)}, {"span_id", to_hex(ls)}});
        span["links"] = std::move(links);
      }
      spans.push_back(std::move(span));
    }
    out.push_back(json{{"trace_id", std::move(tid)}, {"spans", std::move(spans)}});
  }
  return json{{"traces", std::move(out)}};
}

void tracer::export_batch(std::vector<span_record>& batch) {
  if (batch.empty())
    return;
  std::lock_guard<std::mutex> g{export_m_};
  // Span text is valid UTF-8 (`span_text`); should any other string slip through, it is replaced, not
  // thrown on: an exception here would end the export thread, and with it the process.
  auto body = otlp_json(batch, opts_.resource).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (file_.is_open()) {
    file_ << body << '\n';
    file_.flush();
  }
  auto n = batch.size();
  batch.clear();
  std::size_t accepted = n;
  if (exporter_) {
    auto out = exporter_->send(body, n);
    accepted = out.accepted;
    if (out.dropped > 0)
      count_dropped(out.reason, out.dropped);
  }
  exported_ += accepted;
  if (opts_.meters)
    opts_.meters->spans_exported(static_cast<double>(accepted));
}

void tracer::export_loop() {
  for (;;) {
    std::vector<span_record> batch;
    bool last = false;
    {
      std::unique_lock<std::mutex> g{queue_m_};
      queue_cv_.wait_for(g, opts_.flush_interval, [this] { return stopping_ || queue_.size() >= opts_.batch_spans; });
      batch.swap(queue_);
      last = stopping_;
    }
    export_batch(batch);
    if (last)
      return;
  }
}

std::size_t tracer::queued() const {
  std::lock_guard<std::mutex> g{queue_m_};
  return queue_.size();
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
