// What the routes of SPEC §4 share: configuration, the bridge to the actors and the store, auth,
// metrics, tracing, the rate limiter and the route table. No SQL in http/: the store is reached
// through the bridge (`borrow_store`) and the actors.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include <httplib.h>

#include "http/auth.hpp"
#include "http/bridge.hpp"
#include "http/rate_limit.hpp"
#include "http/options.hpp"
#include "http/route_table.hpp"
#include "telemetry/metrics.hpp"
#include "telemetry/tracer.hpp"
#include "model/admin_store.hpp"

namespace booking {

struct route_context {
  const server_config& cfg;
  bridge& br;
  authenticator& auth;
  ::booking::metrics& metrics;
  std::atomic<std::int64_t> inflight{0};
  std::atomic<bool> shutting_down{false};

  tracer& tracing;
  rate_limiter limiter;
  route_table table; // filled before the server starts, read-only afterwards
  /// Waitlist promotion run inside admin writes that free seats or raise capacity.
  promoter promote;

  route_context(const server_config& c, bridge& b, authenticator& a, ::booking::metrics& m, tracer& t)
    : cfg(c), br(b), auth(a), metrics(m), tracing(t),
      limiter(c.rate_limit_per_second, c.rate_limit_burst) {}
};

/// Installs the edge on `svr`: the guard, the router over `ctx.table`, 405/OPTIONS/HEAD, the error,
/// exception and post-routing steps that keep every response exactly framed (http/edge.cpp).
void install_edge(httplib::Server& svr, route_context& ctx);

} // namespace booking
