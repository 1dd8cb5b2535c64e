// booking-open-loop: fixed-arrival-rate load for honest tail latency. With --stampede=N it runs
// closed-loop instead: request i asks for user FIRST + i / N, so the connections together put N
// concurrent requests on each user, every user once, at full speed (the cold-stampede scenario).
// Request i is due at
// t0 + i / rate whatever happened before it; its latency is measured from that due time, so a
// stalled server is charged for every request that queued behind the stall (no coordinated
// omission). Tokens rotate over the seed CSV. Prints one JSON line.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "http/cli_flags.hpp"

int main(int argc, char** argv) {
  auto port = std::stoi(booking::cli_flag(argc, argv, "port", "8080"));
  auto rate = std::stod(booking::cli_flag(argc, argv, "rate", "1000"));
  auto seconds = std::stod(booking::cli_flag(argc, argv, "duration", "20"));
  auto workers = std::stoul(booking::cli_flag(argc, argv, "connections", "64"));
  auto users = std::stoul(booking::cli_flag(argc, argv, "users", "10000"));
  auto path = booking::cli_flag(argc, argv, "path", "/en/v2/training/booking");
  auto per_user = std::stoul(booking::cli_flag(argc, argv, "stampede", "0"));
  auto first = std::stoul(booking::cli_flag(argc, argv, "first-user", "1"));
  std::vector<std::string> tokens;
  std::ifstream in{booking::cli_flag(argc, argv, "tokens", "")};
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line) && tokens.size() < users)
    if (line.find(",member,") != std::string::npos)
      tokens.push_back(line.substr(line.rfind(',') + 1));
  if (tokens.empty()) {
    std::fprintf(stderr, "usage: booking-open-loop --tokens=CSV --port=N --rate=R --duration=S [--connections=64]\n");
    return 2;
  }
  auto total = per_user ? per_user * (std::min(users, tokens.size()) - (first - 1)) : static_cast<std::size_t>(rate * seconds);
  std::atomic<std::size_t> next{0};
  std::vector<std::vector<double>> lat(workers);
  std::atomic<std::size_t> errors{0}, late_starts{0};
  auto t0 = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  std::vector<std::thread> ts;
  for (std::size_t w = 0; w < workers; ++w)
    ts.emplace_back([&, w] {
      httplib::Client cli{"127.0.0.1", port};
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);
      cli.set_read_timeout(10, 0);
      std::this_thread::sleep_until(t0);
      for (std::size_t i = per_user ? next++ : w; i < total; i = per_user ? next++ : i + workers) {
        auto due = std::chrono::steady_clock::now();
        if (!per_user) {
          due = t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                       std::chrono::duration<double>(static_cast<double>(i) / rate));
          if (std::chrono::steady_clock::now() > due + std::chrono::milliseconds(1))
            ++late_starts;
          std::this_thread::sleep_until(due);
        }
        auto& token = per_user ? tokens[first - 1 + i / per_user] : tokens[i % tokens.size()];
        auto r = cli.Get(path, {{"Authorization", "Bearer " + token}});
        auto done = std::chrono::steady_clock::now();
        if (!r || r->status != 200)
          ++errors;
        lat[w].push_back(std::chrono::duration<double, std::milli>(done - due).count());
      }
    });
  for (auto& t : ts)
    t.join();
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::vector<double> all;
  for (auto& v : lat)
    all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<std::size_t>(p * all.size()))]; };
  double sum = 0;
  for (auto x : all)
    sum += x;
  std::printf("RESULT {\"scenario\": \"%s\", \"target_rps\": %.1f, \"requests\": %zu, \"achieved_rps\": %.1f, "
              "\"avg_ms\": %.3f, \"p50_ms\": %.3f, \"p95_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f, "
              "\"errors\": %zu, \"late_starts\": %zu}\n",
              per_user ? "stampede" : "open_loop", rate, all.size(), static_cast<double>(all.size()) / elapsed, all.empty() ? 0 : sum / static_cast<double>(all.size()),
              pct(0.50), pct(0.95), pct(0.99), all.empty() ? 0 : all.back(), errors.load(), late_starts.load());
}
