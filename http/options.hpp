// Command line and config file of booking-server (SPEC §6), in CAF's `--key=value` style.
// The group is `?booking`: flags work without a prefix (`--db=...`). A config file
// (`--config-file=PATH`) holds the same keys; `parse_args` reads it itself and turns its lines into
// flags placed before the command line's (so a flag wins), which accepts the forms users write:
// top-level keys, `[booking]`, `[global]`, `booking { }`, quoted or bare values.
#pragma once

#include <cstdint>
#include <string>

#include <caf/actor_system_config.hpp>

#include "actors/core.hpp"

namespace booking {

struct server_config : caf::actor_system_config {
  std::string db;
  std::uint16_t port = 0;
  /// `--port` (or `port` in the config file) was given: SPEC §6 lists it as required.
  bool port_given = false;
  std::string bind = "127.0.0.1";
  std::size_t http_threads = 320;
  std::size_t max_inflight = 256;
  std::size_t cache_ttl_seconds = static_cast<std::size_t>(defaults::cache_ttl.count());
  std::size_t cache_idle_seconds = static_cast<std::size_t>(defaults::cache_idle.count());
  std::size_t cache_max_users = defaults::cache_max_users;
  std::size_t cancel_window_hours = 12;
  std::size_t waitlist_cutoff_hours = 14;
  std::size_t invalidation_workers = defaults::invalidation_workers;
  std::size_t invalidation_queue = defaults::invalidation_queue;
  std::size_t store_threads = defaults::store_threads();
  std::string timezone = "Asia/Taipei";
  double trace_sample_rate = 0.05;
  std::string trace_file;
  std::string otlp_endpoint;
  bool access_log = false;
  std::size_t max_body_bytes = 16 * 1024;
  std::size_t keep_alive_seconds = 5;
  std::size_t io_timeout_seconds = 5;
  std::size_t reply_timeout_ms = static_cast<std::size_t>(defaults::reply_timeout.count());
  double rate_limit_per_second = 50;
  double rate_limit_burst = 100;
  std::size_t store_busy_timeout_ms = 5000;
  std::size_t store_mmap_mib = 0;
  /// Fault injection for tests: added to every store call.
  std::size_t store_delay_ms = 0;

  server_config();

  /// Parses the command line; `--flag=true|false` works for boolean flags as for any other
  /// (CAF 0.17 accepts only the bare `--flag` form for booleans on the command line).
  caf::error parse_args(int argc, char** argv);

  core_options core() const;
  /// The start-up log's fields, as logfmt pairs (no secrets).
  std::string summary() const;
};

} // namespace booking
