// One client connection as the edge serves it. cpp-httplib 0.11.4 gives each request a fresh
// socket stream and throws away what it had read ahead, so a pipelined second request was lost;
// it lets a header line grow without bound and cannot say "close after this answer". The edge
// therefore runs its own connection loop (http/listener.hpp) over this stream:
//  - one read buffer for the whole connection: pipelined requests are answered in order;
//  - the request head (request line and header lines) is checked byte by byte as the library reads
//    it: size cap, deadline, and the syntax the library would accept silently (bare LF, folded
//    lines, whitespace before a colon, control bytes) is recorded for the guard to refuse;
//  - writes are gathered and sent when the library turns to reading or the request is done.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include <httplib.h>

#include "telemetry/trace_context.hpp"

namespace booking {

struct connection_limits {
  std::chrono::milliseconds io_timeout{5000};   // each read or write waits at most this long
  std::chrono::milliseconds head_timeout{5000}; // the whole head of a request within this
  std::size_t max_head_bytes = 16 * 1024;       // request line and headers together
  std::size_t max_header_lines = 100;
};

/// What the edge knows of the request on this thread beyond what cpp-httplib parsed.
enum class head_problem { none, malformed };

struct request_state {
  head_problem problem = head_problem::none;
  /// Answer with `Connection: close` (no `Keep-Alive`) and end the connection after the answer.
  bool close = false;
  /// The edge answered (or is answering) this request itself; used by the error handler.
  bool answered = false;
  /// Set by the router for methods whose body the library reads after routing.
  const void* pending_route = nullptr;
  std::string_view pending_params[4];
  std::chrono::steady_clock::time_point started{};
  /// The stream refused the head itself (431, 408) and wrote the answer: its status, for the count,
  /// and the trace its `traceparent` named (for the log line).
  int refused_status = 0;
  trace_context refused_trace{};
  /// The request line, as sent, began `HEAD `: its answer has no body, even when the library could
  /// not parse the line (414, a NUL, a bare LF) and so never learned the method.
  bool head_method = false;
  /// The request line's method is a token the library does not parse (`FOO`, `PROPFIND`): the
  /// stream handed the library `TRACE` in its place, which no route serves, so the router answers
  /// 405 with `Allow` on a known path and 404 elsewhere (SPEC §4), and counts the method as `other`.
  bool other_method = false;
  std::string original_method; // that token, when `other_method`
  /// The method token as the stream read it, when it is a standard one (else nullptr): the method of
  /// a request the library could not parse (414, a head refused before it was read).
  const char* sent_method = nullptr;
  /// The request was counted in the metrics (and access-logged); the connection loop counts a head
  /// the stream refused before the library read a request line, which no handler saw.
  bool counted = false;
  /// The credentials and the idempotency key as sent: cpp-httplib percent-decodes header values
  /// (`Bearer%20x` would read as `Bearer x`, `a%41` as `aA`) and drops empty ones.
  bool raw_headers = false; // captured (false outside the connection loop: use the parsed headers)
  int authorization_headers = 0;
  std::string raw_authorization;
  int idempotency_headers = 0;
  std::string raw_idempotency_key;
  /// A body the answer shares with the cache (`send_json` with a shared body): the library writes
  /// the head with an empty body, and the connection loop sends this after the head, from the
  /// cached string itself (no copy). `send_shared` is set by the post-routing step when the answer
  /// still is that body (not replaced by an error) and has one (not HEAD).
  std::shared_ptr<const std::string> shared_body;
  bool send_shared = false;
};

/// HTTP's standard methods (RFC 9110, and PATCH): the method labels of metrics and logs, with `other`.
inline constexpr const char* standard_methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "CONNECT"};

/// The request's method when it is one of `standard_methods` as sent, else nullptr: a made-up token,
/// or none (a head refused before its request line was parsed). `st`: the request's state (by
/// default the calling thread's).
const char* standard_method(const std::string& parsed, const request_state* st);
const char* standard_method(const std::string& parsed);

/// The state of the request being served on the calling thread (nullptr outside the edge's loop).
request_state* current_request();
void set_current_request(request_state* s);

class connection_stream final : public httplib::Stream {
public:
  connection_stream(int fd, const connection_limits& limits);
  ~connection_stream() override;
  connection_stream(const connection_stream&) = delete;
  connection_stream& operator=(const connection_stream&) = delete;

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  int socket() const override { return fd_; }

  /// Waits up to `idle` for the first byte of the next request (bytes already buffered count),
  /// giving up early once `listening` is no longer a valid socket (the server stops).
  bool wait_request(std::chrono::milliseconds idle, const std::atomic<int>& listening);
  /// Starts the head checks of a new request on `state`.
  void begin_request(request_state& state);
  /// Sends everything written so far, then `tail`; false when the peer is gone or too slow.
  bool flush(std::string_view tail = {});
  /// The connection cannot carry another request (read or write failed, head too large or late).
  bool failed() const { return failed_; }

private:
  bool fill();
  /// `getpeername` or `getsockname` into the cached address, unless it was read already.
  void read_address_once(int (*query)(int, sockaddr*, socklen_t*), std::string& ip, int& port) const;
  /// At the start of a head: an unknown method token becomes `TRACE` (see `other_method`); waits,
  /// within the head's deadline, for the token to be complete. False when the stream failed.
  bool stand_in_method();
  void check_head_byte(char c);
  void check_line();
  /// Answers 408 or 431 on the socket itself and fails the stream (the library's answer is dropped).
  void refuse_request(int status, const char* reason_phrase, const char* en, const char* zh);

  int fd_;
  connection_limits limits_;
  /// A blocking socket with a receive timeout of one wait slice: waiting for the next request is
  /// one `recv` per request instead of `poll` and then `recv`.
  bool timed_recv_ = false;
  /// The same socket with a send timeout of `io_timeout`: a write is one `send`, no `poll` first.
  bool timed_send_ = false;
  /// Both ends of the connection, read once (the library asks on every request).
  mutable std::string remote_ip_, local_ip_;
  mutable int remote_port_ = -1, local_port_ = -1;
  std::string in_;
  std::size_t in_off_ = 0;
  std::string out_;
  bool failed_ = false;

  request_state* state_ = nullptr;
  bool in_head_ = false;
  std::size_t head_bytes_ = 0;
  std::size_t head_lines_ = 0;
  bool method_checked_ = false;
  bool zh_ = false; // the request line's target is under /zh-tw/: refusals in Chinese
  bool http10_ = false; // an HTTP/1.0 request: no interim 100 Continue
  std::string line_;
  std::chrono::steady_clock::time_point head_deadline_{};
};

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) for the `Date` header, computed once a second.
const std::string& http_date_now();

} // namespace booking
