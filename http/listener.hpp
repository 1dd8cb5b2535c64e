// The cpp-httplib server as booking-server runs it: thread pool, TCP_NODELAY, keep-alive, socket
// timeouts, body cap, an exclusive listening port with a deep backlog, and the edge's own
// connection loop (http/connection.hpp). The benchmark's ceiling uses the same class, so "the same
// settings" holds by construction.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <functional>
#include <optional>
#include <ctime>
#include <stdexcept>
#include <string>

#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <httplib.h>

#include "http/connection.hpp"
#include "http/worker_pool.hpp"

namespace booking {

struct listener_settings {
  std::size_t threads = 320;
  std::time_t keep_alive_seconds = 5;
  std::time_t io_timeout_seconds = 5;
  std::size_t max_body_bytes = 16 * 1024;
};

class listener : public httplib::Server {
public:
  explicit listener(const listener_settings& s) : settings_(s) {
    auto threads = s.threads < 4 ? std::size_t{4} : s.threads;
    new_task_queue = [threads] { return new worker_pool(threads); };
    set_tcp_nodelay(true);
    set_keep_alive_max_count(100000);
    set_keep_alive_timeout(s.keep_alive_seconds);
    set_read_timeout(s.io_timeout_seconds, 0);
    set_write_timeout(s.io_timeout_seconds, 0);
    set_payload_max_length(s.max_body_bytes);
    limits_.io_timeout = std::chrono::seconds{s.io_timeout_seconds};
    limits_.head_timeout = std::chrono::seconds{s.io_timeout_seconds};
    // The library's default also sets SO_REUSEPORT, which lets a second process bind the same port
    // and silently take half the connections. SO_REUSEADDR only: a port in use is an error.
    set_socket_options([](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
  }

  /// Counts and logs a head the stream refused (408, 431) that no handler saw; set before `listen`.
  std::function<void(const request_state&)> on_unseen_refusal;

  /// Binds (port 0 picks a free one) and deepens the backlog the library compiled in as 5.
  /// Returns the port; throws with the reason when the address cannot be bound (e.g. in use).
  int bind(const std::string& host, int port) {
    int got = port == 0 ? bind_to_any_port(host) : (bind_to_port(host, port) ? port : -1);
    if (got <= 0) {
      auto why = cannot_bind(host, port).value_or("the address was released meanwhile; try again");
      throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + ": " + why);
    }
    ::listen(svr_sock_, 1024);
    return got;
  }

  /// Why `host:port` cannot be bound with the listener's socket options, or nothing when it can.
  /// Asked directly of the kernel: the errno left behind by the library's failed bind does not
  /// survive its cleanup (close, freeaddrinfo, sanitizer hooks). `main` also asks it before opening
  /// the database, so a second instance on a taken port fails at once and touches nothing.
  static std::optional<std::string> cannot_bind(const std::string& host, int port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    auto service = std::to_string(port);
    if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0)
      return std::string(::gai_strerror(rc));
    std::optional<std::string> why = std::string("no usable address");
    for (auto* ai = found; ai != nullptr; ai = ai->ai_next) {
      int fd = ::socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
      if (fd < 0) {
        why = std::string(std::strerror(errno));
        continue;
      }
      int yes = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
      int rc = ::bind(fd, ai->ai_addr, ai->ai_addrlen);
      int err = errno;
      ::close(fd);
      why = rc == 0 ? std::nullopt : std::optional<std::string>{std::strerror(err)};
      break; // the library binds the first address it gets a socket for
    }
    ::freeaddrinfo(found);
    return why;
  }

private:
  /// One connection, served until it closes: the library's `process_request` for each request over
  /// a stream that keeps read-ahead bytes (pipelining), checks heads, and closes after refusals.
  bool process_and_close_socket(socket_t sock) override {
    int one = 1;
    ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    connection_stream strm{sock, limits_};
    request_state state;
    set_current_request(&state);
    bool ok = false;
    auto idle = std::chrono::seconds{settings_.keep_alive_seconds};
    for (std::size_t left = 100000; left > 0 && strm.wait_request(idle, svr_sock_); --left) {
      state = request_state{};
      state.started = std::chrono::steady_clock::now();
      strm.begin_request(state);
      bool closed_by_client = false;
      ok = process_request(strm, left == 1, closed_by_client, nullptr);
      // A head the stream refused before the library read its request line reached no handler.
      if (state.refused_status != 0 && !state.counted && on_unseen_refusal)
        on_unseen_refusal(state);
      // The head the library wrote, then a shared body (http/errors.hpp) straight from the cache.
      if (!strm.flush(state.send_shared && state.shared_body ? std::string_view{*state.shared_body} : std::string_view{}))
        ok = false;
      state.shared_body.reset();
      if (!ok || closed_by_client || state.close || strm.failed())
        break;
    }
    set_current_request(nullptr);
    return ok;
  }

  listener_settings settings_;
  connection_limits limits_;
};

} // namespace booking
