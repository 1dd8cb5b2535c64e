// booking-seed: creates the schema and deterministic demo data (SPEC §6).
#include <chrono>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "http/seed_options.hpp"
#include "model/seed.hpp"
#include "model/time_zone.hpp"
#include "telemetry/log.hpp"

namespace {

const char* const synopsis =
  "usage: booking-seed --db=PATH [--users=N] [--locations=N] [--weeks=N] [--random-seed=S]\n"
  "                    [--timezone=Asia/Taipei] [--tokens-out=FILE] [--config-file=PATH]\n";

void usage(std::ostream& out) {
  out << synopsis
      << "\n"
         "  --config-file=PATH  reads the same keys from a file, one `key = value` a line; flags given on\n"
         "                      the command line override it. Text in double quotes (\\\" and \\\\ escapes),\n"
         "                      numbers bare; `#` or `;` starts a comment; blank lines and a [global] or\n"
         "                      [booking] line are ignored. For example:\n"
         "                        # demo.ini\n"
         "                        db = \"/var/lib/booking/demo.db\"\n"
         "                        users = 12\n"
         "                        timezone = \"Asia/Taipei\"\n"
         "  --tokens-out=FILE   default <db>.tokens.csv; written (mode 0600) only when seeding succeeds.\n";
}

} // namespace

int main(int argc, char** argv) {
  booking::seed_command_line cl;
  try {
    cl = booking::parse_seed_command_line(std::vector<std::string>(argv + (argc > 0 ? 1 : 0), argv + argc));
  } catch (const std::invalid_argument& e) {
    booking::log_error("invalid command line").kv("error", e.what());
    std::cerr << synopsis << "(--help describes the config file)\n";
    return 2;
  }
  if (cl.help) {
    usage(std::cout);
    return 0;
  }
  auto& o = cl.options;
  o.now = booking::now_seconds();
  try {
    auto t0 = std::chrono::steady_clock::now();
    auto s = booking::seed_database_to_file(o, cl.tokens_out);
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
              << "  tokens:    " << cl.tokens_out << "\n";
  } catch (const std::exception& e) {
    booking::log_error("seed failed").kv("error", e.what());
    return 1;
  }
  return 0;
}
