// booking-ceiling: the benchmark's ceiling. A bare cpp-httplib server with the same settings as
// booking-server (thread pool, TCP_NODELAY, keep-alive, timeouts, backlog) that answers every GET
// with a captured booking page. Used only by scripts/bench.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include <sys/socket.h>

#include <httplib.h>

#include "http/cli_flags.hpp"

namespace {

struct server : httplib::Server {
  void deepen_backlog(int n) { ::listen(svr_sock_, n); }
};

} // namespace

int main(int argc, char** argv) {
  std::ifstream in{booking::cli_flag(argc, argv, "body-file", "")};
  if (!in) {
    std::cerr << "usage: booking-ceiling --body-file=PATH [--port=0] [--http-threads=320]\n";
    return 2;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto body = ss.str();
  auto threads = std::stoul(booking::cli_flag(argc, argv, "http-threads", "320"));
  server svr;
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr.set_tcp_nodelay(true);
  svr.set_keep_alive_max_count(100000);
  svr.set_keep_alive_timeout(5);
  svr.set_read_timeout(5, 0);
  svr.set_write_timeout(5, 0);
  svr.set_payload_max_length(16 * 1024);
  svr.Get(R"(/.*)", [&body](const httplib::Request&, httplib::Response& res) {
    res.set_content(body, "application/json; charset=utf-8");
  });
  int port = std::stoi(booking::cli_flag(argc, argv, "port", "0"));
  if (port == 0)
    port = svr.bind_to_any_port("127.0.0.1");
  else if (!svr.bind_to_port("127.0.0.1", port))
    return 1;
  svr.deepen_backlog(1024);
  std::printf("listening on http://127.0.0.1:%d\n", port);
  std::fflush(stdout);
  svr.listen_after_bind();
}
