// The cpp-httplib server as booking-server runs it: thread pool, TCP_NODELAY, keep-alive, socket
// timeouts, body cap and a deep listen backlog. The benchmark's ceiling uses the same class, so
// "the same settings" holds by construction.
#pragma once

#include <cstddef>
#include <ctime>
#include <stdexcept>
#include <string>

#include <sys/socket.h>

#include <httplib.h>

namespace booking {

struct listener_settings {
  std::size_t threads = 320;
  std::time_t keep_alive_seconds = 5;
  std::time_t io_timeout_seconds = 5;
  std::size_t max_body_bytes = 16 * 1024;
};

class listener : public httplib::Server {
public:
  explicit listener(const listener_settings& s) {
    auto threads = s.threads < 4 ? std::size_t{4} : s.threads;
    new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    set_tcp_nodelay(true);
    set_keep_alive_max_count(100000);
    set_keep_alive_timeout(s.keep_alive_seconds);
    set_read_timeout(s.io_timeout_seconds, 0);
    set_write_timeout(s.io_timeout_seconds, 0);
    set_payload_max_length(s.max_body_bytes);
  }

  /// Binds (port 0 picks a free one) and deepens the backlog the library compiled in as 5.
  /// Returns the port; throws when the address cannot be bound.
  int bind(const std::string& host, int port) {
    if (port == 0)
      port = bind_to_any_port(host);
    else if (!bind_to_port(host, port))
      port = -1;
    if (port <= 0)
      throw std::runtime_error("cannot bind " + host + (port < 0 ? "" : ":" + std::to_string(port)));
    ::listen(svr_sock_, 1024);
    return port;
  }
};

} // namespace booking
