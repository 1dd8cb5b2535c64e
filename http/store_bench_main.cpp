// booking-store-bench: the store-only limit of the cold path. N threads, each with its own SQLite
// connection (as the server's store threads have), load distinct users (user row, bookings,
// waitlist entries: the queries of a cold page) for a fixed time; with --render each load is also
// rendered as this month's English page. No HTTP, no actors: the figure the cold page is measured
// against (scripts/bench). Prints one JSON line.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "http/cli_flags.hpp"
#include "model/page.hpp"
#include "model/store.hpp"

int main(int argc, char** argv) {
  using namespace booking;
  auto db = cli_flag(argc, argv, "db", "");
  if (db.empty()) {
    std::fprintf(stderr, "usage: booking-store-bench --db=PATH [--threads=2] [--first-user=1] [--users=100000] "
                         "[--seconds=5] [--render=false] [--timezone=Asia/Taipei]\n");
    return 2;
  }
  auto threads = std::stoul(cli_flag(argc, argv, "threads", "2"));
  auto first = std::stoll(cli_flag(argc, argv, "first-user", "1"));
  auto users = std::stoll(cli_flag(argc, argv, "users", "100000"));
  auto seconds = std::stod(cli_flag(argc, argv, "seconds", "5"));
  bool render = cli_flag(argc, argv, "render", "false") == "true";
  zone tz{cli_flag(argc, argv, "timezone", "Asia/Taipei")};

  std::atomic<long long> next{0};
  std::atomic<long long> loads{0}, bookings{0}, bytes{0}, missing{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> ts;
  auto t0 = std::chrono::steady_clock::now();
  for (std::size_t t = 0; t < threads; ++t)
    ts.emplace_back([&] {
      store s{store_options{db}};
      auto locs = s.locations();
      auto now = now_seconds();
      date::year_month_day today{tz.today(now)};
      date_range month{local_date{today.year() / today.month() / 1}, local_date{today.year() / today.month() / date::last}};
      while (!stop.load(std::memory_order_relaxed)) {
        auto id = first + next++ % users;
        auto snap = s.load_user(id);
        if (!snap) {
          ++missing;
          continue;
        }
        bookings += static_cast<long long>(snap->bookings.size());
        if (render)
          bytes += static_cast<long long>(render_page(*snap, month, locs, tz, lang::en, now).body.size());
        ++loads;
      }
    });
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : ts)
    t.join();
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("RESULT {\"threads\": %zu, \"render\": %s, \"loads\": %lld, \"seconds\": %.3f, \"loads_per_s\": %.1f, "
              "\"bookings_per_load\": %.2f, \"bytes_per_page\": %.0f, \"missing\": %lld, \"wrapped\": %s}\n",
              threads, render ? "true" : "false", loads.load(), elapsed, static_cast<double>(loads.load()) / elapsed,
              static_cast<double>(bookings.load()) / static_cast<double>(std::max(1LL, loads.load())),
              static_cast<double>(bytes.load()) / static_cast<double>(std::max(1LL, loads.load())), missing.load(),
              next.load() > users ? "true" : "false");
  return 0;
}
