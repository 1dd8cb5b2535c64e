// End-to-end fixture: a real booking-server process on port 0 over a seeded temporary database,
// real HTTP clients, and raw sockets for hostile input.
#pragma once

#include <chrono>
#include <csignal>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "fixtures.hpp"
#include "model/seed.hpp"

namespace booking::test {

struct seeded_db {
  temp_dir dir;
  std::string path = dir.file("e2e.db");
  std::map<id_type, std::string> tokens; // user id -> token
  id_type admin = 0;

  explicit seeded_db(int users = 40) {
    seed_options o;
    o.db_path = path;
    o.users = users;
    o.weeks = 4;
    o.random_seed = 11;
    o.now = now_seconds();
    std::ostringstream csv;
    seed_database(o, csv);
    std::istringstream in{csv.str()};
    std::string line;
    std::getline(in, line); // header
    while (std::getline(in, line)) {
      auto a = line.find(','), b = line.rfind(',');
      auto id = std::stoll(line.substr(0, a));
      tokens[id] = line.substr(b + 1);
      if (line.substr(a + 1, b - a - 1) == "admin")
        admin = id;
    }
  }

  /// Runs one statement on a separate connection (the server keeps running).
  std::int64_t exec(const std::string& sql) {
    sql::connection c{path, 5000};
    sql::statement st{c, sql.c_str()};
    std::int64_t v = st.step() ? st.int64(0) : 0;
    st.reset();
    return sql.rfind("INSERT", 0) == 0 ? c.last_insert_id() : v;
  }

  /// A fresh session at location 1 starting `hours` from now.
  id_type add_session(int hours, int capacity) {
    auto start = (now_seconds() + std::chrono::hours{hours}).time_since_epoch().count();
    return exec("INSERT INTO sessions (location_id, title, coach, starts_at, ends_at, capacity) VALUES (1, 'Race', "
                "'Coach', "
                + std::to_string(start) + ", " + std::to_string(start + 3600) + ", " + std::to_string(capacity) + ")");
  }

  void set_user(id_type id, int credits, int leave_quota) {
    exec("UPDATE users SET credits = " + std::to_string(credits) + ", leave_quota = " + std::to_string(leave_quota)
         + " WHERE id = " + std::to_string(id));
  }
};

class server_process {
public:
  /// Starts booking-server on `db` (none given when empty); its standard error goes to `stderr_file` when one is given.
  server_process(const std::string& db, std::vector<std::string> extra = {}, const std::string& stderr_file = "") {
    int out[2];
    REQUIRE(::pipe(out) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      if (!stderr_file.empty()) {
        int err = ::open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (err >= 0)
          ::dup2(err, 2);
      }
      ::close(out[0]);
      ::close(out[1]);
      std::vector<std::string> args{BOOKING_SERVER_PATH, "--port=0"};
      if (!db.empty()) // empty: the database comes from a config file in `extra`
        args.push_back("--db=" + db);
      for (auto& e : extra)
        args.push_back(e);
      std::vector<char*> argv;
      for (auto& a : args)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    out_ = out[0];
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{20};
    while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, 200) > 0) {
        char buf[256];
        auto n = ::read(out_, buf, sizeof buf);
        if (n <= 0)
          break;
        line.append(buf, static_cast<size_t>(n));
      }
    }
    auto pos = line.rfind(':');
    REQUIRE_MESSAGE(line.rfind("listening on http://", 0) == 0, "server did not start: " << line);
    port_ = std::stoi(line.substr(pos + 1));
  }

  ~server_process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(out_);
  }

  int port() const { return port_; }
  pid_t pid() const { return pid_; }

  /// Sends SIGTERM and waits (bounded) for the exit status; -1 on timeout.
  int terminate(std::chrono::seconds limit = std::chrono::seconds{20}) {
    ::kill(pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
    return -1;
  }

  bool alive() {
    int status = 0;
    return pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == 0;
  }

  httplib::Client client() const {
    httplib::Client c{"127.0.0.1", port_};
    c.set_connection_timeout(5, 0);
    c.set_read_timeout(15, 0);
    c.set_write_timeout(5, 0);
    c.set_keep_alive(true);
    return c;
  }

private:
  pid_t pid_ = -1;
  int out_ = -1;
  int port_ = 0;
};

inline httplib::Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

inline nlohmann::json body_of(const httplib::Result& r) {
  return r ? nlohmann::json::parse(r->body, nullptr, false) : nlohmann::json();
}

inline std::string error_code_of(const httplib::Result& r) {
  auto j = body_of(r);
  return j.is_object() && j.contains("error") ? j["error"]["code"].get<std::string>() : std::string("-");
}

/// A TCP connection to 127.0.0.1:`port`, or -1.
inline int connect_local(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// Reads from `fd` until the peer closes (then `*eof` is set) or `wait` passes. Returns what was read.
inline std::string read_for(int fd, std::chrono::milliseconds wait, bool* eof = nullptr) {
  std::string got;
  auto deadline = std::chrono::steady_clock::now() + wait;
  if (eof)
    *eof = false;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) > 0) {
      char buf[4096];
      auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        if (eof)
          *eof = true;
        break;
      }
      got.append(buf, static_cast<size_t>(n));
    }
  }
  return got;
}

/// Writes raw bytes, reads until the server closes or `wait` passes. Returns what was read.
inline std::string raw_exchange(int port, const std::string& bytes, std::chrono::milliseconds wait = std::chrono::milliseconds{3000},
                                bool* closed = nullptr) {
  int fd = connect_local(port);
  if (fd < 0)
    return {};
  ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  auto got = read_for(fd, wait, closed);
  ::close(fd);
  return got;
}

inline int count_responses(const std::string& raw) {
  int n = 0;
  for (size_t p = raw.find("HTTP/1.1 "); p != std::string::npos; p = raw.find("HTTP/1.1 ", p + 1))
    ++n;
  return n;
}

} // namespace booking::test
