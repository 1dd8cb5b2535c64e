// OTLP/HTTP JSON export (POST {endpoint}/v1/traces) from the tracer's export thread: one kept-alive
// connection, bounded retries with exponential backoff on 429/502/503/504 and connection failures
// (honouring Retry-After up to a bound), partial success read from the answer, and a warning
// logged at most once a minute while export fails. Only the export thread ever waits here.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>

#include "telemetry/metrics.hpp"

namespace httplib {
class Client;
}

namespace booking {

struct otlp_exporter_options {
  std::string endpoint; // base URL, e.g. http://127.0.0.1:4318
  int max_attempts = 5;
  std::chrono::milliseconds first_backoff{200};
  std::chrono::milliseconds max_backoff{5000};
  /// The longest Retry-After honoured; longer ones are cut to this.
  std::chrono::milliseconds max_retry_after{10000};
  std::chrono::milliseconds timeout{2000}; // connect, read and write, each
  std::chrono::seconds warn_interval{60};
};

class otlp_exporter {
public:
  struct outcome {
    std::size_t accepted = 0; // spans the collector took
    std::size_t dropped = 0;  // spans lost, for `reason`
    span_drop reason = span_drop::retries_exhausted;
    int attempts = 0;
  };

  otlp_exporter(otlp_exporter_options opts, metrics* m);
  ~otlp_exporter();

  /// Sends one OTLP/JSON body holding `spans` spans.
  outcome send(const std::string& body, std::size_t spans);
  /// Shutdown: the attempt in progress is cut short, no more backoff sleeps, one attempt per send.
  void interrupt();

private:
  bool pause(std::chrono::milliseconds d); // false when interrupted
  void warn(const std::string& why, int status);

  otlp_exporter_options opts_;
  metrics* metrics_;
  std::unique_ptr<httplib::Client> client_;
  std::string path_;
  std::mutex m_;
  std::condition_variable cv_;
  std::atomic<bool> interrupted_{false};
  std::chrono::steady_clock::time_point last_warning_{};
  bool warned_ = false;
  std::size_t failures_since_warning_ = 0;
};

/// Parses `partialSuccess.rejectedSpans` of an OTLP export answer (string or number); 0 if absent.
std::size_t otlp_rejected_spans(const std::string& response_body);

} // namespace booking
