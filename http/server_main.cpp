// booking-server: the actor core behind the HTTP front-end (SPEC §6).
#include <csignal>
#include <fstream>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include <caf/actor_system.hpp>
#include <pthread.h>
#include <unistd.h>

#include "http/listener.hpp"
#include "http/maintenance.hpp"
#include "http/server.hpp"
#include "model/time_zone.hpp"
#include "telemetry/log.hpp"

using namespace booking;

int main(int argc, char** argv) {
  // Signals are taken by one thread with sigwait: block them before any other thread exists.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  server_config cfg;
  if (auto err = cfg.parse_args(argc, argv)) {
    log_error("invalid command line").kv("error", to_string(err));
    return 2;
  }
  if (cfg.cli_helptext_printed)
    return 0;
  if (!cfg.remainder.empty()) {
    log_error("invalid command line").kv("error", "unexpected argument " + cfg.remainder.front() + " (see --help)");
    return 2;
  }
  if (cfg.db.empty()) {
    log_error("invalid command line").kv("error", "--db=PATH is required (see --help)");
    return 2;
  }
  if (!cfg.port_given) {
    log_error("invalid command line").kv("error", "--port=N is required (0 picks a free port; see --help)");
    return 2;
  }
  if (!(cfg.trace_sample_rate >= 0.0 && cfg.trace_sample_rate <= 1.0)) {
    log_error("invalid command line").kv("error", "--trace-sample-rate must be between 0 and 1");
    return 2;
  }
  // Values that would leave the server unable to answer anything are refused, not clamped.
  const std::pair<const char*, std::size_t> at_least_one[] = {
    {"--http-threads", cfg.http_threads},           {"--max-inflight", cfg.max_inflight},
    {"--cache-max-users", cfg.cache_max_users},     {"--store-threads", cfg.store_threads},
    {"--invalidation-workers", cfg.invalidation_workers}, {"--io-timeout-seconds", cfg.io_timeout_seconds},
    {"--reply-timeout-ms", cfg.reply_timeout_ms},   {"--max-body-bytes", cfg.max_body_bytes}};
  for (auto& [flag, value] : at_least_one)
    if (value < 1) {
      log_error("invalid command line").kv("error", std::string(flag) + " must be at least 1");
      return 2;
    }
  // And values no machine could honour (each HTTP or store thread is a thread of its own).
  const std::pair<const char*, std::size_t> at_most[] = {
    {"--http-threads", cfg.http_threads}, {"--store-threads", cfg.store_threads},
    {"--invalidation-workers", cfg.invalidation_workers}};
  for (auto& [flag, value] : at_most)
    if (value > 10000) {
      log_error("invalid command line").kv("error", std::string(flag) + " must be at most 10000");
      return 2;
    }
  if (!(cfg.rate_limit_per_second >= 0 && cfg.rate_limit_per_second <= 1e9) ||
      (cfg.rate_limit_per_second > 0 && !(cfg.rate_limit_burst >= 1 && cfg.rate_limit_burst <= 1e9))) {
    log_error("invalid command line")
      .kv("error", "--rate-limit-per-second must be 0 (no limit) or positive, with --rate-limit-burst at least 1");
    return 2;
  }
  if (cfg.waitlist_cutoff_hours > 24 * 366 || cfg.cancel_window_hours > 24 * 366) {
    std::cerr << "booking-server: --waitlist-cutoff-hours and --cancel-window-hours must be at most 8784\n";
    return 2;
  }
  try {
    (void)zone{cfg.timezone}; // before the database is touched: a bad zone changes no file
  } catch (const std::exception& e) {
    log_error("invalid command line").kv("error", std::string("--timezone: ") + e.what());
    return 2;
  }
  if (!cfg.trace_file.empty() && !std::ofstream{cfg.trace_file, std::ios::app}) {
    log_error("invalid command line").kv("error", "--trace-file: cannot open " + cfg.trace_file + " for appending");
    return 2;
  }
  bool listener_failed = false;
  try {
    log_info("starting").kv("version", build_version()).fields(cfg.summary());
    // Port 0 too: an address that cannot be bound is refused before the database is touched.
    if (auto why = listener::cannot_bind(cfg.bind, cfg.port))
      throw std::runtime_error("cannot listen on " + cfg.bind + ":" + std::to_string(cfg.port) + ": " + *why);
    store check{cfg.core().store}; // creates and migrates the schema; fails early on a bad path
    log_info("database ready").kv("db", cfg.db);
    metrics m;
    tracer_options topts;
    topts.sample_rate = cfg.trace_sample_rate;
    topts.trace_file = cfg.trace_file;
    topts.otlp.endpoint = cfg.otlp_endpoint;
    topts.meters = &m;
    tracer tracing{topts};
    caf::actor_system sys{cfg};
    auto copts = cfg.core();
    copts.tracing = &tracing;
    core c{sys, copts, m};
    http_server http{cfg, c, m, tracing};
    maintenance upkeep{copts.store, std::chrono::seconds{30}, std::chrono::hours{48}};
    auto port = http.bind();
    std::thread server_thread{[&] {
      try {
        http.run();
      } catch (const std::exception& e) { // e.g. no thread could be started: stop in order, exit 1
        log_error("HTTP listener failed").kv("error", e.what());
        listener_failed = true;
        kill(getpid(), SIGTERM);
      }
    }};
    // An IPv6 literal is bracketed in a URL (RFC 3986 §3.2.2).
    auto address = "http://" + (cfg.bind.find(':') != std::string::npos ? "[" + cfg.bind + "]" : cfg.bind) + ":" +
                   std::to_string(port);
    std::printf("listening on %s\n", address.c_str());
    std::fflush(stdout);
    log_info("listening").kv("address", address)
      .kv("service_instance_id", tracing.resource().instance_id);

    int sig = 0;
    sigwait(&sigs, &sig);
    log_info("shutting down").kv("signal", sig == SIGINT ? "SIGINT" : "SIGTERM");
    http.stop();
    server_thread.join(); // in-flight requests have completed
    auto depth = c.invalidations().depth();
    bool drained = c.shutdown();
    auto queued_spans = tracing.queued();
    tracing.shutdown();
    log_info("stopped").kv("invalidations_pending_at_stop", depth).kv("drained", drained)
      .kv("spans_pending_at_stop", queued_spans).kv("spans_exported", tracing.exported())
      .kv("spans_dropped", tracing.dropped());
  } catch (const std::exception& e) {
    log_error("fatal").kv("error", e.what());
    return 1;
  }
  return listener_failed ? 1 : 0;
}
