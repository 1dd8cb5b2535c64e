#include "http/connection.hpp"

#include "http/target.hpp"
#include "telemetry/trace_context.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace booking {

namespace {

thread_local request_state* current = nullptr;

using clock_type = std::chrono::steady_clock;

int millis_until(clock_type::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

/// RFC 9110 tchar: the bytes of a method or a header name.
bool tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
    return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-': case '.':
    case '^': case '_': case '`': case '|': case '~': return true;
    default: return false;
  }
}

bool request_line_ok(std::string_view l) {
  auto sp1 = l.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0)
    return false;
  auto sp2 = l.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1 || l.find(' ', sp2 + 1) != std::string_view::npos)
    return false;
  for (auto c : l.substr(0, sp1))
    if (!tchar(static_cast<unsigned char>(c)))
      return false;
  for (auto c : l.substr(sp1 + 1, sp2 - sp1 - 1))
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      return false;
  auto version = l.substr(sp2 + 1);
  return version == "HTTP/1.1" || version == "HTTP/1.0";
}

std::string_view trim_ows(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
    v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t'))
    v.remove_suffix(1);
  return v;
}

bool header_line_ok(std::string_view l) {
  if (l.front() == ' ' || l.front() == '\t') // obsolete line folding
    return false;
  auto colon = l.find(':');
  if (colon == std::string_view::npos || colon == 0)
    return false;
  for (auto c : l.substr(0, colon)) // no whitespace before the colon: the name is tchars only
    if (!tchar(static_cast<unsigned char>(c)))
      return false;
  for (auto c : l.substr(colon + 1)) {
    auto u = static_cast<unsigned char>(c);
    if (u != '\t' && (u < 0x20 || u == 0x7f))
      return false;
  }
  // The library drops a header whose value is empty, so the guard, which counts and looks for
  // these, would never see it: `Host:` beside `Host: x` would pass as one Host, `Transfer-Encoding:`
  // as none. An empty one is refused like any malformed line.
  if (trim_ows(l.substr(colon + 1)).empty()) {
    auto name = l.substr(0, colon);
    for (const char* framing : {"host", "content-length", "transfer-encoding", "content-encoding", "range", "expect"})
      if (iequals(name, framing))
        return false;
  }
  return true;
}

} // namespace

request_state* current_request() { return current; }

namespace {

const char* standard_name(std::string_view m) {
  for (const char* k : standard_methods)
    if (m == k)
      return k;
  return nullptr;
}

/// The methods cpp-httplib 0.11.4 parses (`parse_request_line`); it answers 400 to any other.
bool library_method(std::string_view m) { return standard_name(m) || m == "PRI"; }

} // namespace

const char* standard_method(const std::string& parsed, const request_state* st) {
  if (st && st->other_method)
    return nullptr; // read as TRACE, sent as something else
  if (parsed.empty()) // the library did not parse the request line: what the stream read, if anything
    return st ? st->sent_method : nullptr;
  return standard_name(parsed);
}

const char* standard_method(const std::string& parsed) { return standard_method(parsed, current); }
void set_current_request(request_state* s) { current = s; }

namespace {
/// How often a connection waiting for its next request looks whether the server stops.
constexpr int wait_slice_ms = 200;
} // namespace

connection_stream::connection_stream(int fd, const connection_limits& limits) : fd_(fd), limits_(limits) {
  in_.reserve(16 * 1024);
  out_.reserve(16 * 1024);
  auto flags = ::fcntl(fd_, F_GETFL);
  if (flags >= 0 && !(flags & O_NONBLOCK)) {
    timeval slice{0, wait_slice_ms * 1000};
    timed_recv_ = ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &slice, sizeof slice) == 0;
    auto io = std::chrono::duration_cast<std::chrono::microseconds>(limits_.io_timeout).count();
    timeval send_limit{static_cast<time_t>(io / 1000000), static_cast<suseconds_t>(io % 1000000)};
    timed_send_ = io > 0 && ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &send_limit, sizeof send_limit) == 0;
  }
}

connection_stream::~connection_stream() {
  if (!failed_)
    flush();
  // Lingering close: stop sending, then read for a moment what the peer still sends (an unread
  // body), so that closing does not turn into a reset that could destroy our last answer.
  ::shutdown(fd_, SHUT_WR);
  char sink[4096];
  std::size_t drained = 0;
  auto until = clock_type::now() + std::chrono::milliseconds{100};
  while (drained < 256 * 1024) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, millis_until(until)) <= 0)
      break;
    auto n = ::recv(fd_, sink, sizeof sink, 0);
    if (n <= 0)
      break;
    drained += static_cast<std::size_t>(n);
  }
  ::close(fd_);
}

bool connection_stream::is_readable() const {
  if (in_off_ < in_.size())
    return true;
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(limits_.io_timeout.count())) > 0;
}

bool connection_stream::is_writable() const { return !failed_; }

bool connection_stream::wait_request(std::chrono::milliseconds idle, const std::atomic<int>& listening) {
  if (failed_)
    return false;
  if (in_off_ < in_.size())
    return true;
  in_.clear();
  in_off_ = 0;
  auto deadline = clock_type::now() + idle;
  char buf[16 * 1024];
  for (;;) {
    if (listening.load() < 0) {
      // The server stops: idle connections end now. A request that has arrived already (on a
      // connection that waited in the pool's queue for a thread, or sent just before the stop) is
      // read and answered (the guard's 503, closing the connection) instead of being dropped with it.
      auto n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n <= 0)
        return false;
      in_.append(buf, static_cast<std::size_t>(n));
      return true;
    }
    auto left = millis_until(deadline);
    if (left == 0)
      return false;
    // With the socket's receive timeout, `recv` itself waits at most one slice; the last, shorter
    // slice of the deadline polls (every read inside a request polls first, so none waits on it).
    bool timed = timed_recv_ && left >= wait_slice_ms;
    if (!timed) {
      pollfd p{fd_, POLLIN, 0};
      auto r = ::poll(&p, 1, std::min(left, wait_slice_ms));
      if (r < 0 && errno != EINTR)
        return false;
      if (r <= 0)
        continue;
    }
    auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      in_.append(buf, static_cast<std::size_t>(n));
      return true;
    }
    if (!timed || n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
      return false; // a slice that ran out is EAGAIN: look at the listening socket again
  }
}

void connection_stream::begin_request(request_state& state) {
  state_ = &state;
  state.raw_headers = true;
  in_head_ = true;
  head_bytes_ = 0;
  head_lines_ = 0;
  method_checked_ = false;
  zh_ = false;
  http10_ = false;
  line_.clear();
  head_deadline_ = clock_type::now() + limits_.head_timeout;
}

bool connection_stream::fill() {
  if (in_off_ == in_.size()) {
    in_.clear();
    in_off_ = 0;
  }
  auto deadline = clock_type::now() + limits_.io_timeout;
  if (in_head_ && head_deadline_ < deadline)
    deadline = head_deadline_;
  pollfd p{fd_, POLLIN, 0};
  int r;
  do {
    r = ::poll(&p, 1, millis_until(deadline));
  } while (r < 0 && errno == EINTR);
  if (r <= 0) {
    if (r == 0 && in_head_ && (head_bytes_ > 0 || in_off_ < in_.size()))
      refuse_request(408, "Request Timeout", "The request head was not received in time.", "未能及時收到請求標頭。");
    else if (r == 0 && !in_head_ && state_) // the library reads a body: it stalled
      refuse_request(408, "Request Timeout", "The request body was not received in time.", "未能及時收到請求內容。");
    failed_ = true;
    return false;
  }
  char buf[16 * 1024];
  auto n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) {
    failed_ = true;
    return false;
  }
  in_.append(buf, static_cast<std::size_t>(n));
  return true;
}

ssize_t connection_stream::read(char* ptr, size_t size) {
  if (failed_)
    return -1;
  if (!out_.empty() && !flush()) // the library waits on the peer: what it wrote goes out first
    return -1;
  if (in_off_ == in_.size() && !fill())
    return -1;
  if (in_head_ && !method_checked_ && !stand_in_method())
    return -1;
  auto k = std::min(size, in_.size() - in_off_);
  if (in_head_) {
    // Head bytes go through the checks one by one; the body (or the next request) is not scanned.
    std::size_t i = 0;
    while (i < k && in_head_) {
      check_head_byte(in_[in_off_ + i]);
      ++i;
      if (failed_)
        return -1;
    }
    k = i;
  }
  std::memcpy(ptr, in_.data() + in_off_, k);
  in_off_ += k;
  return static_cast<ssize_t>(k);
}

namespace {

/// The target of a request line (`METHOD SP target SP version`).
std::string_view target_of(std::string_view line) {
  auto sp = line.find(' ');
  if (sp == std::string_view::npos)
    return {};
  auto target = line.substr(sp + 1);
  return target.substr(0, target.find(' '));
}

} // namespace

bool connection_stream::stand_in_method() {
  method_checked_ = true;
  if (!state_)
    return true;
  constexpr std::size_t longest = 32; // a longer token is passed on as it is: the library says 400
  for (;;) {
    std::string_view rest{in_.data() + in_off_, in_.size() - in_off_};
    auto sp = rest.find(' ');
    auto token = rest.substr(0, sp);
    for (auto c : token.substr(0, longest + 1))
      if (!tchar(static_cast<unsigned char>(c)))
        return true; // not a method: the request-line check refuses it
    if (sp == std::string_view::npos) {
      if (token.size() > longest)
        return true;
      if (!fill()) // the token is still arriving
        return false;
      continue;
    }
    if (token.empty() || token.size() > longest)
      return true;
    if (library_method(token)) {
      state_->sent_method = standard_name(token);
      return true;
    }
    state_->original_method = std::string(token);
    state_->other_method = true;
    in_.replace(in_off_, sp, "TRACE");
    return true;
  }
}

void connection_stream::check_head_byte(char c) {
  if (++head_bytes_ > limits_.max_head_bytes) {
    refuse_request(431, "Request Header Fields Too Large", "The request head is too large.", "請求標頭過大。");
    return;
  }
  line_.push_back(c);
  if (c == '\n') {
    check_line();
    line_.clear();
  }
}

void connection_stream::check_line() {
  bool bad = false;
  std::string_view l{line_};
  if (l.size() < 2 || l[l.size() - 2] != '\r') {
    bad = true; // a bare LF: the library would skip the line unseen
  } else {
    l.remove_suffix(2);
    if (l.find('\r') != std::string_view::npos || l.find('\0') != std::string_view::npos)
      bad = true;
  }
  ++head_lines_;
  if (head_lines_ == 1 && state_)
    state_->head_method = line_.compare(0, 5, "HEAD ") == 0;
  if (head_lines_ > limits_.max_header_lines + 1) {
    refuse_request(431, "Request Header Fields Too Large", "Too many header fields.", "請求標頭欄位過多。");
    return;
  }
  if (!bad && head_lines_ == 1) {
    bad = !request_line_ok(l);
    zh_ = lang_of_path(after_authority(target_of(l))) == lang::zh_tw;
    http10_ = l.size() >= 8 && l.substr(l.size() - 8) == "HTTP/1.0";
  } else if (!bad && l.empty()) {
    in_head_ = false; // the blank line: the head is complete
  } else if (!bad) {
    bad = !header_line_ok(l);
    if (!bad && state_) {
      auto colon = l.find(':');
      auto name = l.substr(0, colon);
      if (iequals(name, "authorization")) {
        ++state_->authorization_headers;
        state_->raw_authorization = std::string(trim_ows(l.substr(colon + 1)));
      } else if (iequals(name, "idempotency-key")) {
        ++state_->idempotency_headers;
        state_->raw_idempotency_key = std::string(trim_ows(l.substr(colon + 1)));
      }
    }
  }
  if (bad && state_)
    state_->problem = head_problem::malformed;
}

void connection_stream::refuse_request(int status, const char* reason_phrase, const char* en, const char* zh) {
  // The library would buffer without limit, wait on, or close without a word: answer here, exactly
  // framed, and close.
  // In the path's language once the request line has been read (SPEC §4), else in English.
  std::string body = std::string(R"({"error":{"code":"invalid_request","message":")") + (zh_ ? zh : en) + "\"}}";
  std::string r = "HTTP/1.1 " + std::to_string(status) + ' ' + reason_phrase + "\r\n";
  r += "Content-Type: application/json; charset=utf-8\r\n";
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  r += "Date: " + http_date_now() + "\r\n";
  // Every response carries a traceparent (SPEC §7); the head was not read or not yet routed, so a
  // new trace.
  trace_context trace{random_trace_id(), random_span_id(), false, true};
  if (state_)
    state_->refused_trace = trace;
  r += "traceparent: " + format_traceparent(trace) + "\r\n";
  r += "Connection: close\r\n\r\n";
  // No body for a HEAD (its line may still be arriving: then its first bytes tell).
  bool head = (state_ && state_->head_method) || (head_lines_ == 0 && line_.compare(0, 5, "HEAD ") == 0);
  if (!head)
    r += body;
  out_ = std::move(r);
  flush();
  failed_ = true;
  if (state_) {
    state_->close = true;
    state_->refused_status = status;
  }
}

ssize_t connection_stream::write(const char* ptr, size_t size) {
  if (failed_)
    return -1;
  if (std::string_view{ptr, size} == "HTTP/1.1 100 Continue\r\n\r\n") {
    // An HTTP/1.0 client's `Expect: 100-continue` is ignored (RFC 9110 §10.1.1): the library's
    // interim answer is not sent, and the client sends its body as HTTP/1.0 does.
    if (http10_)
      return static_cast<ssize_t>(size);
    // Every response has a `Date` (SPEC §4), the interim one too (RFC 9110 §6.6.1 allows it).
    out_ += "HTTP/1.1 100 Continue\r\nDate: ";
    out_ += http_date_now();
    out_ += "\r\n\r\n";
    return static_cast<ssize_t>(size);
  }
  out_.append(ptr, size);
  if (out_.size() >= 64 * 1024 && !flush())
    return -1;
  return static_cast<ssize_t>(size);
}

bool connection_stream::flush(std::string_view tail) {
  std::size_t sent = 0;
  const std::size_t total = out_.size() + tail.size();
  while (sent < total) {
    // With the socket's send timeout, `send` itself waits (at most `io_timeout` without progress,
    // then EAGAIN: the peer is too slow); otherwise poll first.
    if (!timed_send_) {
      pollfd p{fd_, POLLOUT, 0};
      int r;
      do {
        r = ::poll(&p, 1, static_cast<int>(limits_.io_timeout.count()));
      } while (r < 0 && errno == EINTR);
      if (r <= 0) {
        failed_ = true;
        break;
      }
    }
    // What is left of the buffered bytes and of the tail, in one `sendmsg`.
    iovec iov[2];
    int parts = 0;
    if (sent < out_.size())
      iov[parts++] = iovec{out_.data() + sent, out_.size() - sent};
    if (auto from = sent > out_.size() ? sent - out_.size() : 0; from < tail.size())
      iov[parts++] = iovec{const_cast<char*>(tail.data() + from), tail.size() - from};
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<decltype(msg.msg_iovlen)>(parts);
    auto n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
    if (n < 0 && (errno == EINTR || (!timed_send_ && errno == EAGAIN)))
      continue;
    if (n <= 0) {
      failed_ = true;
      break;
    }
    sent += static_cast<std::size_t>(n);
  }
  out_.clear();
  return !failed_;
}

namespace {

void address_of(const sockaddr_storage& a, std::string& ip, int& port) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (a.ss_family == AF_INET) {
    auto* s = reinterpret_cast<const sockaddr_in*>(&a);
    ::inet_ntop(AF_INET, &s->sin_addr, buf, sizeof buf);
    port = ntohs(s->sin_port);
  } else if (a.ss_family == AF_INET6) {
    auto* s = reinterpret_cast<const sockaddr_in6*>(&a);
    ::inet_ntop(AF_INET6, &s->sin6_addr, buf, sizeof buf);
    port = ntohs(s->sin6_port);
  }
  ip = buf;
}

} // namespace

void connection_stream::get_remote_ip_and_port(std::string& ip, int& port) const {
  read_address_once(::getpeername, remote_ip_, remote_port_);
  ip = remote_ip_;
  port = remote_port_;
}

void connection_stream::get_local_ip_and_port(std::string& ip, int& port) const {
  read_address_once(::getsockname, local_ip_, local_port_);
  ip = local_ip_;
  port = local_port_;
}

void connection_stream::read_address_once(int (*query)(int, sockaddr*, socklen_t*), std::string& ip,
                                          int& port) const {
  if (port >= 0)
    return;
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  if (query(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    address_of(a, ip, port);
}

const std::string& http_date_now() {
  thread_local std::time_t last = 0;
  thread_local std::string text;
  auto now = std::time(nullptr);
  if (now != last) {
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    static const char* const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char* const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char buf[40];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
                  months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    text = buf;
    last = now;
  }
  return text;
}

} // namespace booking
