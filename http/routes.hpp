// Every route of SPEC §4 on a cpp-httplib server. No SQL here: the store is reached through the
// bridge (`borrow_store`) and the actors.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include <httplib.h>

#include "actors/metrics.hpp"
#include "actors/tracing.hpp"
#include "http/auth.hpp"
#include "http/bridge.hpp"
#include "http/rate_limit.hpp"
#include "http/options.hpp"
#include "model/admin_store.hpp"

namespace booking {

struct route_context {
  const server_config& cfg;
  bridge& br;
  authenticator& auth;
  metrics& stats;
  std::atomic<std::int64_t> inflight{0};
  std::atomic<bool> shutting_down{false};

  tracer& tracing;
  rate_limiter limiter;
  /// Waitlist promotion run inside admin writes that free seats or raise capacity.
  promoter promote;

  route_context(const server_config& c, bridge& b, authenticator& a, metrics& m, tracer& t)
    : cfg(c), br(b), auth(a), stats(m), tracing(t),
      limiter(c.rate_limit_per_second, c.rate_limit_burst) {}
};

void register_routes(httplib::Server& svr, route_context& ctx);

} // namespace booking
