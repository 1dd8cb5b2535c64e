#include "telemetry/otlp_exporter.hpp"

#include <algorithm>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "telemetry/log.hpp"

namespace booking {

namespace {

bool retryable_status(int s) { return s == 429 || s == 502 || s == 503 || s == 504; }

/// Retry-After in delta-seconds; an HTTP date or garbage is ignored (the backoff applies).
std::chrono::milliseconds retry_after(const httplib::Response& r) {
  auto v = r.get_header_value("Retry-After");
  if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos)
    return std::chrono::milliseconds{0};
  return std::chrono::seconds{std::stol(v)};
}

} // namespace

std::size_t otlp_rejected_spans(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("partialSuccess") || !j["partialSuccess"].is_object())
    return 0;
  auto& r = j["partialSuccess"]["rejectedSpans"];
  if (r.is_number_unsigned())
    return r.get<std::size_t>();
  if (r.is_string()) {
    auto s = r.get<std::string>();
    if (!s.empty() && s.size() < 19 && s.find_first_not_of("0123456789") == std::string::npos)
      return static_cast<std::size_t>(std::stoull(s));
  }
  return 0;
}

otlp_exporter::otlp_exporter(otlp_exporter_options opts, metrics* m) : opts_(std::move(opts)), metrics_(m) {
  auto& e = opts_.endpoint;
  auto scheme_end = e.find("://");
  auto path_start = e.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  auto base = e.substr(0, path_start);
  path_ = path_start == std::string::npos ? std::string() : e.substr(path_start);
  while (!path_.empty() && path_.back() == '/')
    path_.pop_back();
  path_ += "/v1/traces";
  client_ = std::make_unique<httplib::Client>(base);
  auto to = opts_.timeout;
  auto secs = static_cast<time_t>(to.count() / 1000);
  auto usecs = static_cast<time_t>((to.count() % 1000) * 1000);
  client_->set_connection_timeout(secs, usecs);
  client_->set_read_timeout(secs, usecs);
  client_->set_write_timeout(secs, usecs);
  client_->set_keep_alive(true);
}

otlp_exporter::~otlp_exporter() = default;

void otlp_exporter::interrupt() {
  interrupted_ = true;
  cv_.notify_all();
  client_->stop(); // cuts a hanging request short
}

bool otlp_exporter::pause(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> g{m_};
  return !cv_.wait_for(g, d, [this] { return interrupted_.load(); });
}

void otlp_exporter::warn(const std::string& why, int status) {
  ++failures_since_warning_;
  auto now = std::chrono::steady_clock::now();
  if (warned_ && now - last_warning_ < opts_.warn_interval)
    return;
  auto line = log_warn("trace export failing");
  line.kv("endpoint", opts_.endpoint).kv("reason", why);
  if (status > 0)
    line.kv("status", status);
  line.kv("failed_batches", failures_since_warning_);
  warned_ = true;
  last_warning_ = now;
  failures_since_warning_ = 0;
}

otlp_exporter::outcome otlp_exporter::send(const std::string& body, std::size_t spans) {
  outcome out;
  auto backoff = opts_.first_backoff;
  for (;;) {
    ++out.attempts;
    auto r = client_->Post(path_.c_str(), body, "application/json");
    std::chrono::milliseconds wait{0};
    std::string why;
    int status = 0;
    if (r && r->status / 100 == 2) {
      auto rejected = std::min(spans, otlp_rejected_spans(r->body));
      out.accepted = spans - rejected;
      if (rejected > 0) {
        out.dropped = rejected;
        out.reason = span_drop::rejected;
      }
      return out;
    }
    if (r) {
      status = r->status;
      why = "status";
      if (!retryable_status(status)) {
        warn(why, status);
        out.dropped = spans;
        out.reason = span_drop::non_retryable;
        return out;
      }
      wait = retry_after(*r);
    } else {
      why = httplib::to_string(r.error());
    }
    bool last = out.attempts >= opts_.max_attempts || interrupted_;
    if (last) {
      warn(why, status);
      out.dropped = spans;
      out.reason = span_drop::retries_exhausted;
      return out;
    }
    wait = std::min(std::max(wait, backoff), opts_.max_retry_after);
    backoff = std::min(backoff * 2, opts_.max_backoff);
    if (metrics_)
      metrics_->export_retry();
    if (!pause(wait)) {
      warn("shutdown", status);
      out.dropped = spans;
      out.reason = span_drop::retries_exhausted;
      return out;
    }
  }
}

} // namespace booking
