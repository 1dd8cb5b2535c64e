// booking-seed: creates the schema and deterministic demo data (SPEC §6).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "model/seed.hpp"
#include "model/time_zone.hpp"
#include "telemetry/log.hpp"

namespace {

bool flag(const std::string& arg, const char* name, std::string& out) {
  std::string prefix = std::string("--") + name + "=";
  if (arg.rfind(prefix, 0) != 0)
    return false;
  out = arg.substr(prefix.size());
  return true;
}

int usage() {
  std::cerr << "usage: booking-seed --db=PATH [--users=N] [--locations=N] [--weeks=N] [--random-seed=S]\n"
               "                    [--timezone=Asia/Taipei] [--tokens-out=FILE]\n";
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  booking::seed_options o;
  std::string tokens_out, v;
  try {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a == "-h" || a == "--help")
        return usage(), 0;
      if (flag(a, "db", v)) o.db_path = v;
      else if (flag(a, "users", v)) o.users = std::stoi(v);
      else if (flag(a, "locations", v)) o.locations = std::stoi(v);
      else if (flag(a, "weeks", v)) o.weeks = std::stoi(v);
      else if (flag(a, "random-seed", v)) o.random_seed = std::stoull(v);
      else if (flag(a, "timezone", v)) o.timezone = v;
      else if (flag(a, "tokens-out", v)) tokens_out = v;
      else {
        booking::log_error("unknown argument").kv("argument", a);
        return usage();
      }
    }
  } catch (const std::exception&) {
    booking::log_error("a numeric flag has a bad value");
    return usage();
  }
  if (o.db_path.empty())
    return usage();
  if (tokens_out.empty())
    tokens_out = o.db_path + ".tokens.csv";
  o.now = booking::now_seconds();
  try {
    std::ofstream tokens{tokens_out, std::ios::trunc};
    if (!tokens)
      throw std::runtime_error("cannot write " + tokens_out);
    auto t0 = std::chrono::steady_clock::now();
    auto s = booking::seed_database(o, tokens);
    tokens.close();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "seeded " << o.db_path << " in " << ms << " ms (time zone " << o.timezone << ", seed "
              << o.random_seed << ")\n"
              << "  users:     " << s.users << " members + " << s.admins << " admin\n"
              << "  locations: " << s.locations << "\n"
              << "  sessions:  " << s.sessions << " (" << s.full_sessions << " full), weeks " << s.first_week
              << " .. " << s.last_week << "\n"
              << "  bookings:  " << s.bookings << " (" << s.booked << " booked, " << s.cancelled << " cancelled, "
              << s.leave << " leave)\n"
              << "  waitlist:  " << s.waiting << " waiting entries\n"
              << "  tokens:    " << tokens_out << "\n";
  } catch (const std::exception& e) {
    booking::log_error("seed failed").kv("error", e.what());
    return 1;
  }
  return 0;
}
