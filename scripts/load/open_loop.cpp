// booking-open-loop: fixed-arrival-rate load for honest tail latency. Request i is due at
// t0 + i / rate whatever happened before it, and its latency is measured from that due time, so a
// stalled server is charged for every request that queued behind the stall (no coordinated
// omission). A request due while every connection is busy waits for the first one free, and that
// wait counts too. With --stampede=N it runs closed-loop instead: request i asks for member
// FIRST + i / N, so the connections together put N concurrent requests on each member, every member
// once, at full speed (the cold-stampede scenario). Tokens rotate over the seed CSV's members.
// Prints one JSON line.
//
// The client is a few event loops (--threads, default 2) over non-blocking sockets, so that it
// costs the machine little: the server and the load share two cores, and a client that needs a
// core of its own at the measured rate makes its own tail. Answers are read by their
// Content-Length (the server frames every answer so); an answer without one, a closed connection,
// a status other than 200 or no answer within 10 s is an error, and a broken connection is opened
// again. Every run is bounded: the open loop ends 10 s after its duration, a stampede after 600 s;
// what is unanswered then counts as errors. With no connection open for 10 s the run ends with
// exit status 2.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "http/cli_flags.hpp"

namespace {

using clock_type = std::chrono::steady_clock; // CLOCK_MONOTONIC, as the timerfd below
constexpr auto answer_timeout = std::chrono::seconds(10);
constexpr auto stampede_limit = std::chrono::seconds(600);

const char* const usage =
    "usage: booking-open-loop --port=N --tokens=CSV [--rate=R (1000)] [--duration=S (20)]\n"
    "                         [--connections=C (64)] [--threads=T (2)] [--users=U (10000)] [--path=P]\n"
    "       booking-open-loop --port=N --tokens=CSV --stampede=K [--first-user=F (1)] [--users=U] ...\n"
    "  The CSV's first U members take part (in a stampede, members F..U, K requests each).\n"
    "  R and S are positive and finite (S at most 86400); C is 1-10000; T is 1-C.\n";

struct settings {
  int port = 0;
  double rate = 1000;
  std::size_t total = 0;
  std::size_t per_user = 0; // 0: open loop
  std::size_t first = 1;
  std::string path;
  std::vector<std::string> tokens;
  clock_type::time_point t0, deadline;
};

struct outcome {
  std::vector<double> latencies_ms;
  std::size_t errors = 0, late_starts = 0;
  bool no_connection = false;
};

enum class state { down, idle, busy };

struct connection {
  int fd = -1;
  state st = state::down;
  clock_type::time_point due{}, sent_at{};
  std::string out; // the request, while part of it is unsent
  std::string in;
};

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

bool iequals_prefix(std::string_view line, std::string_view name) {
  if (line.size() < name.size())
    return false;
  for (std::size_t i = 0; i < name.size(); ++i)
    if (static_cast<char>(std::tolower(static_cast<unsigned char>(line[i]))) != name[i])
      return false;
  return true;
}

// One answer at the front of `in`: 0 = incomplete, -1 = malformed, else its length in bytes
// (status and whether the server closes set).
long answer_length(const std::string& in, int& status, bool& closes) {
  auto end = in.find("\r\n\r\n");
  if (end == std::string::npos)
    return in.size() > 65536 ? -1 : 0;
  if (in.compare(0, 9, "HTTP/1.1 ") != 0 || end < 12)
    return -1;
  status = std::atoi(in.c_str() + 9);
  long length = -1;
  closes = false;
  std::string_view head{in.data(), end + 2};
  for (auto pos = head.find("\r\n") + 2; pos < head.size();) {
    auto eol = head.find("\r\n", pos);
    auto line = head.substr(pos, eol - pos);
    if (iequals_prefix(line, "content-length:"))
      length = std::atol(std::string{line.substr(15)}.c_str());
    else if (iequals_prefix(line, "connection:") && line.find("close") != std::string_view::npos)
      closes = true;
    pos = eol + 2;
  }
  if (length < 0)
    return -1;
  auto whole = static_cast<long>(end + 4) + length;
  return static_cast<long>(in.size()) >= whole ? whole : 0;
}

double ms_since(clock_type::time_point t, clock_type::time_point now) {
  return std::chrono::duration<double, std::milli>(now - t).count();
}

// One event loop: `conns` connections; in the open loop, requests t, t + step, t + 2 step, ...
void run_loop(const settings& s, std::size_t conns, std::size_t t, std::size_t step,
              std::atomic<std::size_t>& next_shared, outcome& out) {
  int ep = ::epoll_create1(0);
  int timer = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
  epoll_event tev{};
  tev.events = EPOLLIN;
  tev.data.u64 = ~0ull;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, timer, &tev);
  std::vector<connection> cs(conns);
  std::vector<std::size_t> idle; // exactly the connections in state idle
  std::size_t in_flight = 0;     // exactly the connections in state busy
  auto last_progress = clock_type::now();
  auto open_conn = [&](std::size_t k) {
    cs[k].fd = connect_to(s.port);
    if (cs[k].fd < 0)
      return false;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = k;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, cs[k].fd, &ev);
    cs[k].st = state::idle;
    idle.push_back(k);
    return true;
  };
  auto close_conn = [&](std::size_t k) {
    auto& c = cs[k];
    if (c.fd >= 0) {
      ::epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
      ::close(c.fd);
    }
    if (c.st == state::idle)
      idle.erase(std::find(idle.begin(), idle.end(), k));
    if (c.st == state::busy)
      --in_flight;
    c.fd = -1;
    c.st = state::down;
    c.in.clear();
    c.out.clear();
  };
  // The connection's request (if any) failed: it counts, with the time it took; a new connection.
  auto fail = [&](std::size_t k, clock_type::time_point now, bool reopen) {
    if (cs[k].st == state::busy) {
      out.latencies_ms.push_back(ms_since(cs[k].due, now));
      ++out.errors;
    }
    close_conn(k);
    if (reopen)
      open_conn(k);
  };
  for (std::size_t k = 0; k < conns; ++k)
    if (!open_conn(k)) {
      out.no_connection = true;
      conns = k; // those opened are closed below
      break;
    }
  std::size_t next = t; // open loop: this loop's next request
  bool exhausted = out.no_connection;
  auto due_of = [&](std::size_t i) {
    return s.t0 + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(static_cast<double>(i) / s.rate));
  };
  auto send_on = [&](std::size_t k, std::size_t i, clock_type::time_point due, clock_type::time_point now) {
    auto& c = cs[k];
    auto& token = s.per_user ? s.tokens[s.first - 1 + i / s.per_user] : s.tokens[i % s.tokens.size()];
    c.out = "GET " + s.path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(s.port) +
            "\r\nAuthorization: Bearer " + token + "\r\n\r\n";
    idle.erase(std::find(idle.begin(), idle.end(), k));
    c.st = state::busy;
    c.due = due;
    c.sent_at = now;
    ++in_flight;
    auto n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(c.out.size())) {
      c.out.clear();
      return;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      fail(k, now, true);
      return;
    }
    c.out.erase(0, n < 0 ? 0 : static_cast<std::size_t>(n));
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u64 = k;
    ::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
  };
  auto dispatch = [&](clock_type::time_point now) {
    while (!idle.empty() && !exhausted) {
      std::size_t i;
      auto due = now;
      if (s.per_user) {
        i = next_shared++;
        if (i >= s.total) {
          exhausted = true;
          break;
        }
      } else {
        if (next >= s.total) {
          exhausted = true;
          break;
        }
        due = due_of(next);
        if (due > now)
          break;
        i = next;
        next += step;
        if (now > due + std::chrono::milliseconds(1))
          ++out.late_starts;
      }
      send_on(idle.back(), i, due, now);
    }
  };
  std::vector<epoll_event> evs(conns + 1);
  char buf[65536];
  auto last_retry = clock_type::now();
  for (;;) {
    auto now = clock_type::now();
    if (now >= s.deadline) { // the run's time is up: what is unanswered fails (unsent: counted by main)
      for (std::size_t k = 0; k < conns; ++k)
        fail(k, now, false);
      break;
    }
    dispatch(now);
    if (exhausted && in_flight == 0)
      break;
    if (idle.empty() && in_flight == 0 && now - last_progress > answer_timeout) {
      out.no_connection = true; // every connection refused for 10 s
      break;
    }
    // Wake at the next request's due time (when a connection is free for it), else within 100 ms
    // to retry connections and check for answers that never came.
    itimerspec its{};
    if (!s.per_user && !exhausted && !idle.empty() && next < s.total) {
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(due_of(next).time_since_epoch()).count();
      its.it_value.tv_sec = ns / 1000000000;
      its.it_value.tv_nsec = ns % 1000000000;
      if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
        its.it_value.tv_nsec = 1;
    }
    ::timerfd_settime(timer, TFD_TIMER_ABSTIME, &its, nullptr);
    int n = ::epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), 100);
    now = clock_type::now();
    for (int e = 0; e < n; ++e) {
      if (evs[e].data.u64 == ~0ull) {
        std::uint64_t ticks;
        [[maybe_unused]] auto r = ::read(timer, &ticks, sizeof ticks);
        continue;
      }
      auto k = static_cast<std::size_t>(evs[e].data.u64);
      auto& c = cs[k];
      if (c.fd < 0)
        continue;
      if ((evs[e].events & EPOLLOUT) && !c.out.empty()) {
        auto w = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
          fail(k, now, true);
          continue;
        }
        c.out.erase(0, w < 0 ? 0 : static_cast<std::size_t>(w));
        if (c.out.empty()) {
          epoll_event ev{};
          ev.events = EPOLLIN;
          ev.data.u64 = k;
          ::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
        }
      }
      if (!(evs[e].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        continue;
      bool closed = false;
      for (;;) {
        auto r = ::recv(c.fd, buf, sizeof buf, 0);
        if (r > 0) {
          c.in.append(buf, static_cast<std::size_t>(r));
          continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
          closed = true;
        break;
      }
      int status = 0;
      bool closes = false;
      auto len = c.st == state::busy ? answer_length(c.in, status, closes) : -1;
      if (len > 0) {
        out.latencies_ms.push_back(ms_since(c.due, now));
        if (status != 200)
          ++out.errors;
        c.st = state::idle;
        idle.push_back(k);
        --in_flight;
        last_progress = now;
        c.in.erase(0, static_cast<std::size_t>(len));
        if (!c.in.empty()) // more than was asked for: not an answer to anything
          ++out.errors;
        if (closes || closed || !c.in.empty())
          fail(k, now, true);
      } else if (len < 0 || closed) {
        fail(k, now, true);
      }
    }
    for (std::size_t k = 0; k < conns; ++k) // answers that never came
      if (cs[k].st == state::busy && now - cs[k].sent_at > answer_timeout)
        fail(k, now, true);
    if (now - last_retry > std::chrono::milliseconds(100)) { // connections the server did not take
      last_retry = now;
      for (std::size_t k = 0; k < conns; ++k)
        if (cs[k].st == state::down && open_conn(k))
          last_progress = now;
    }
  }
  for (std::size_t k = 0; k < conns; ++k)
    close_conn(k);
  ::close(timer);
  ::close(ep);
}

bool to_number(const std::string& v, double& out) {
  if (v.empty() || std::isspace(static_cast<unsigned char>(v[0])))
    return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtod(v.c_str(), &end);
  return *end == '\0' && errno == 0 && std::isfinite(out);
}

bool to_count(const std::string& v, std::size_t lo, std::size_t hi, std::size_t& out) {
  if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos)
    return false;
  out = std::stoul(v);
  return out >= lo && out <= hi;
}

} // namespace

int main(int argc, char** argv) {
  static const char* const known[] = {"port", "tokens", "rate", "duration", "connections", "threads",
                                      "users", "path", "stampede", "first-user"};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool ok = false;
    for (auto* k : known)
      ok = ok || a.rfind(std::string("--") + k + "=", 0) == 0;
    if (!ok) {
      std::fprintf(stderr, "booking-open-loop: unknown argument %s\n%s", argv[i], usage);
      return 2;
    }
  }
  settings s;
  double seconds = 0;
  std::size_t port = 0, connections = 0, threads = 0, users = 0;
  s.path = booking::cli_flag(argc, argv, "path", "/en/v2/training/booking");
  auto tokens_path = booking::cli_flag(argc, argv, "tokens", "");
  if (!to_count(booking::cli_flag(argc, argv, "port", ""), 1, 65535, port) || tokens_path.empty()
      || !to_number(booking::cli_flag(argc, argv, "rate", "1000"), s.rate) || s.rate <= 0 || s.rate > 1e7
      || !to_number(booking::cli_flag(argc, argv, "duration", "20"), seconds) || seconds <= 0 || seconds > 86400
      || !to_count(booking::cli_flag(argc, argv, "connections", "64"), 1, 10000, connections)
      || !to_count(booking::cli_flag(argc, argv, "threads", "2"), 1, connections, threads)
      || !to_count(booking::cli_flag(argc, argv, "users", "10000"), 1, 100000000, users)
      || !to_count(booking::cli_flag(argc, argv, "stampede", "0"), 0, 1000000, s.per_user)
      || !to_count(booking::cli_flag(argc, argv, "first-user", "1"), 1, users, s.first) || s.path.empty() || s.path[0] != '/'
      || s.path.find_first_of(" \t\r\n") != std::string::npos) {
    std::fprintf(stderr, "%s", usage);
    return 2;
  }
  s.port = static_cast<int>(port);
  std::ifstream in{tokens_path};
  if (!in) {
    std::fprintf(stderr, "booking-open-loop: cannot read %s\n", tokens_path.c_str());
    return 2;
  }
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line) && s.tokens.size() < users)
    if (line.find(",member,") != std::string::npos)
      s.tokens.push_back(line.substr(line.rfind(',') + 1));
  if (s.tokens.empty() || (s.per_user && s.first > s.tokens.size())) {
    std::fprintf(stderr, "booking-open-loop: %s has %zu member tokens, fewer than asked for\n", tokens_path.c_str(),
                 s.tokens.size());
    return 2;
  }
  s.total = s.per_user ? s.per_user * (s.tokens.size() - (s.first - 1)) : static_cast<std::size_t>(s.rate * seconds);
  s.t0 = clock_type::now() + std::chrono::milliseconds(200);
  s.deadline = s.per_user ? s.t0 + stampede_limit
                          : s.t0 + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(seconds))
                                + answer_timeout;
  std::atomic<std::size_t> next_shared{0};
  std::vector<outcome> outs(threads);
  std::vector<std::thread> ts;
  for (std::size_t t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      auto mine = connections / threads + (t < connections % threads ? 1 : 0);
      std::this_thread::sleep_until(s.t0);
      run_loop(s, mine, t, threads, next_shared, outs[t]);
    });
  for (auto& t : ts)
    t.join();
  auto elapsed = std::chrono::duration<double>(clock_type::now() - s.t0).count();
  std::vector<double> all;
  std::size_t errors = 0, late_starts = 0;
  for (auto& o : outs) {
    if (o.no_connection) {
      std::fprintf(stderr, "booking-open-loop: no connection to 127.0.0.1:%d\n", s.port);
      return 2;
    }
    all.insert(all.end(), o.latencies_ms.begin(), o.latencies_ms.end());
    errors += o.errors;
    late_starts += o.late_starts;
  }
  errors += s.total - std::min(s.total, all.size()); // never sent before the run's time was up
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<std::size_t>(p * all.size()))]; };
  double sum = 0;
  for (auto x : all)
    sum += x;
  std::printf("RESULT {\"scenario\": \"%s\", \"target_rps\": %.1f, \"requests\": %zu, \"achieved_rps\": %.1f, "
              "\"avg_ms\": %.3f, \"p50_ms\": %.3f, \"p95_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f, "
              "\"errors\": %zu, \"late_starts\": %zu}\n",
              s.per_user ? "stampede" : "open_loop", s.per_user ? 0.0 : s.rate, all.size(),
              static_cast<double>(all.size()) / elapsed, all.empty() ? 0 : sum / static_cast<double>(all.size()),
              pct(0.50), pct(0.95), pct(0.99), all.empty() ? 0 : all.back(), errors, late_starts);
}
