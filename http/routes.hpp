// What the routes of SPEC §4 share: configuration, the client of the actors, the store leases, auth,
// metrics, tracing, the rate limiter and the route table. No SQL in http/: the store is reached
// through a lease (`stores.borrow()`) and the actors.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include <httplib.h>

#include "http/auth.hpp"
#include "http/actor_client.hpp"
#include "http/rate_limit.hpp"
#include "http/options.hpp"
#include "http/route_table.hpp"
#include "http/store_leases.hpp"
#include "telemetry/metrics.hpp"
#include "telemetry/tracer.hpp"
#include "model/admin_store.hpp"

namespace booking {

struct route_context {
  const server_config& cfg;
  actor_client& actors;
  store_leases& stores;
  authenticator& auth;
  ::booking::metrics& metrics;
  std::atomic<std::int64_t> inflight{0};
  std::atomic<bool> shutting_down{false};

  tracer& tracing;
  rate_limiter limiter;
  route_table table; // filled before the server starts, read-only afterwards
  /// Waitlist promotion run inside admin writes that free seats or raise capacity.
  promoter promote;

  route_context(const server_config& c, actor_client& ac, store_leases& sl, authenticator& a, ::booking::metrics& m,
                tracer& t)
    : cfg(c), actors(ac), stores(sl), auth(a), metrics(m), tracing(t),
      limiter(c.rate_limit_per_second, c.rate_limit_burst) {}
};

/// Installs the edge on `svr`: the guard, the router over `ctx.table`, 405/OPTIONS/HEAD, the error,
/// exception and post-routing steps that keep every response exactly framed (http/edge.cpp).
void install_edge(httplib::Server& svr, route_context& ctx);

} // namespace booking
