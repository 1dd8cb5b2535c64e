// Shared test helpers: temporary database files and instants written as text.
#pragma once

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "model/store.hpp"
#include "model/time_zone.hpp"

namespace booking::test {

/// A fresh directory under the system temp dir, removed with everything in it.
class temp_dir {
public:
  temp_dir() {
    static std::atomic<int> n{0};
    path_ = std::filesystem::temp_directory_path()
            / ("booking-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
  std::filesystem::path path_;
};

/// A port on 127.0.0.1 where nothing listens, so a connection to it is refused at once: bound, then
/// closed without listening. (`httplib::Server::bind_to_any_port` on a server that never listens
/// leaves its socket listening: connections to it are accepted and never answered.)
inline int refused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t n = sizeof a;
  int port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0
      && ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n) == 0)
    port = ntohs(a.sin_port);
  if (fd >= 0)
    ::close(fd);
  return port;
}

/// `2026-03-29T01:30:00Z`-style UTC text to an instant.
inline instant utc(const std::string& text) {
  auto d = parse_date(text.substr(0, 10));
  int h = std::stoi(text.substr(11, 2)), m = std::stoi(text.substr(14, 2)), s = std::stoi(text.substr(17, 2));
  return instant{d->time_since_epoch()} + std::chrono::hours{h} + std::chrono::minutes{m} + std::chrono::seconds{s};
}

/// A small database: one location, sessions and users created by the test itself.
struct small_db {
  temp_dir dir;
  std::string path = dir.file("test.db");
  store db{store_options{path, 5000}};

  small_db() { db.connection().exec("INSERT INTO locations (id, name, address) VALUES (1, 'Studio A', '1 Road')"); }

  id_type add_user(int credits, int leave_quota) {
    static std::atomic<int> n{0};
    auto& c = db.connection();
    sql::statement st{c, "INSERT INTO users (name, email, credits, leave_quota) VALUES (?1, ?2, ?3, ?4)"};
    st.bind(1, "User").bind(2, "u" + std::to_string(n++) + "@x").bind(3, credits).bind(4, leave_quota).run();
    auto id = c.last_insert_id();
    sql::statement open{c, "INSERT INTO credit_ledger (user_id, delta, balance_after, reason, created_at) "
                           "VALUES (?1, ?2, ?2, 'opening', 0)"};
    open.bind(1, id).bind(2, credits).run();
    return id;
  }

  id_type add_session(instant starts, int capacity) {
    auto& c = db.connection();
    sql::statement st{c, "INSERT INTO sessions (location_id, title, coach, starts_at, ends_at, capacity) "
                         "VALUES (1, 'HIIT', 'Coach', ?1, ?2, ?3)"};
    st.bind(1, starts.time_since_epoch().count())
      .bind(2, (starts + std::chrono::hours{1}).time_since_epoch().count())
      .bind(3, capacity)
      .run();
    return c.last_insert_id();
  }

  /// Users whose credits differ from the sum of their ledger deltas (SPEC §5.11): 0 when it holds.
  int ledger_violations() {
    return scalar("SELECT count(*) FROM users u WHERE u.credits != "
                  "(SELECT coalesce(sum(delta), 0) FROM credit_ledger l WHERE l.user_id = u.id)");
  }

  int scalar(const std::string& sql) {
    sql::statement st{db.connection(), sql.c_str()};
    sql::scoped_reset r{st};
    return st.step() ? st.int32(0) : -1;
  }
};

} // namespace booking::test
