// booking-ceiling: the benchmark's ceiling. A bare cpp-httplib server with the same settings as
// booking-server (thread pool, TCP_NODELAY, keep-alive, timeouts, backlog) that answers every GET
// with a captured booking page. Used only by scripts/bench.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "http/cli_flags.hpp"
#include "http/listener.hpp"

int main(int argc, char** argv) {
  std::ifstream in{booking::cli_flag(argc, argv, "body-file", "")};
  if (!in) {
    std::cerr << "usage: booking-ceiling --body-file=PATH [--port=0] [--http-threads=320]\n";
    return 2;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto body = ss.str();
  // Exactly booking-server's defaults (http/listener.hpp).
  booking::listener svr{booking::listener_settings{std::stoul(booking::cli_flag(argc, argv, "http-threads", "320"))}};
  svr.Get(R"(/.*)", [&body](const httplib::Request&, httplib::Response& res) {
    res.set_content(body, "application/json; charset=utf-8");
  });
  int port = svr.bind("127.0.0.1", std::stoi(booking::cli_flag(argc, argv, "port", "0")));
  std::printf("listening on http://127.0.0.1:%d\n", port);
  std::fflush(stdout);
  svr.listen_after_bind();
}
