// The HTTP front-end: cpp-httplib with explicit limits, the pre-routing guard, admission control,
// JSON errors everywhere, and a graceful stop.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <httplib.h>

#include "http/auth.hpp"
#include "http/actor_client.hpp"
#include "http/listener.hpp"
#include "http/options.hpp"
#include "http/routes.hpp"
#include "http/store_leases.hpp"

namespace booking {

class http_server {
public:
  http_server(const server_config& cfg, core& c, metrics& m, tracer& t);
  ~http_server();

  /// Binds the listening socket (port 0 picks one) with a deep backlog; returns the port.
  int bind();
  /// Serves until `stop`; returns once in-flight requests finished and the pool joined.
  void run();
  /// Stops accepting; in-flight requests complete.
  void stop();
  route_context& context() { return *ctx_; }

private:
  const server_config& cfg_;
  std::unique_ptr<actor_client> actors_;
  std::unique_ptr<store_leases> stores_;
  std::unique_ptr<authenticator> auth_;
  std::unique_ptr<route_context> ctx_;
  listener svr_;
};

} // namespace booking
