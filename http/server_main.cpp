// booking-server: the actor core behind the HTTP front-end (SPEC §6).
#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

#include <caf/actor_system.hpp>
#include <pthread.h>

#include "http/maintenance.hpp"
#include "http/server.hpp"

using namespace booking;

namespace {

void log(const char* level, const std::string& msg) { std::cerr << "level=" << level << ' ' << msg << std::endl; }

/// OTLP/HTTP JSON export: POST {endpoint}/v1/traces, bounded timeouts, from the exporter thread.
std::function<bool(const std::string&)> otlp_sender(const std::string& endpoint) {
  if (endpoint.empty())
    return {};
  auto scheme_end = endpoint.find("://");
  auto path_start = endpoint.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  auto base = endpoint.substr(0, path_start);
  auto prefix = path_start == std::string::npos ? std::string() : endpoint.substr(path_start);
  while (!prefix.empty() && prefix.back() == '/')
    prefix.pop_back();
  return [base, prefix](const std::string& body) {
    httplib::Client cli{base};
    cli.set_connection_timeout(2, 0);
    cli.set_read_timeout(2, 0);
    cli.set_write_timeout(2, 0);
    auto r = cli.Post((prefix + "/v1/traces").c_str(), body, "application/json");
    return r && r->status / 100 == 2;
  };
}

} // namespace

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
    std::cerr << "booking-server: " << to_string(err) << "\n";
    return 2;
  }
  if (cfg.cli_helptext_printed)
    return 0;
  if (cfg.db.empty()) {
    std::cerr << "booking-server: --db=PATH is required (see --help)\n";
    return 2;
  }
  if (cfg.waitlist_cutoff_hours > 24 * 366 || cfg.cancel_window_hours > 24 * 366) {
    std::cerr << "booking-server: --waitlist-cutoff-hours and --cancel-window-hours must be at most 8784\n";
    return 2;
  }
  try {
    log("info", "msg=\"starting\" " + cfg.summary());
    store check{cfg.core().store}; // creates and migrates the schema; fails early on a bad path
    metrics m;
    tracer_options topts;
    topts.sample_rate = cfg.trace_sample_rate;
    topts.trace_file = cfg.trace_file;
    topts.otlp_post = otlp_sender(cfg.otlp_endpoint);
    topts.recorded_counter = m.spans_recorded;
    topts.dropped_counter = m.spans_dropped;
    tracer tracing{topts};
    caf::actor_system sys{cfg};
    auto copts = cfg.core();
    copts.tracing = &tracing;
    core c{sys, copts, m};
    http_server http{cfg, c, m, tracing};
    maintenance upkeep{copts.store, std::chrono::seconds{30}, std::chrono::hours{48}};
    auto port = http.bind();
    std::thread server_thread{[&] { http.run(); }};
    std::printf("listening on http://%s:%d\n", cfg.bind.c_str(), port);
    std::fflush(stdout);
    log("info", "msg=\"listening\" address=http://" + cfg.bind + ":" + std::to_string(port));

    int sig = 0;
    sigwait(&sigs, &sig);
    log("info", std::string("msg=\"shutting down\" signal=") + (sig == SIGINT ? "SIGINT" : "SIGTERM"));
    http.stop();
    server_thread.join(); // in-flight requests have completed
    auto depth = c.invalidations().depth();
    bool drained = c.shutdown();
    tracing.flush();
    log("info", "msg=\"stopped\" invalidations_pending_at_stop=" + std::to_string(depth)
                  + " drained=" + (drained ? "true" : "false"));
  } catch (const std::exception& e) {
    log("error", std::string("msg=\"fatal\" error=\"") + e.what() + "\"");
    return 1;
  }
  return 0;
}
