// Deterministic demo data (SPEC §6): same options and seed, same database and tokens.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "model/types.hpp"

namespace booking {

struct seed_options {
  std::string db_path;
  int users = 1000;
  int locations = 5;
  int weeks = 12;
  std::uint64_t random_seed = 42;
  std::string timezone = "Asia/Taipei";
  instant now{}; // the reference "today"; the caller passes the clock
};

struct seed_summary {
  int users = 0; // members, without the admin
  int admins = 0;
  int locations = 0;
  int sessions = 0;
  int full_sessions = 0;
  int bookings = 0;
  int booked = 0;
  int cancelled = 0;
  int leave = 0;
  int waiting = 0; // waitlist entries, all on full future sessions
  std::string first_week; // Monday of the first seeded week
  std::string last_week;
};

/// Creates the schema and fills an empty database; writes `user_id,role,token` lines (with header)
/// to `tokens`. Throws std::runtime_error if the database already holds users, or if `tokens` is in a
/// failed state once every line is written (nothing is committed then).
seed_summary seed_database(const seed_options& opts, std::ostream& tokens);

/// seed_database with the tokens written to the file `tokens_path`, which is touched only if seeding
/// succeeds: the lines go to a new temporary file beside it (created exclusively, mode 0600 whatever the
/// umask), flushed to disk before the database commits, then renamed over `tokens_path`. On any failure
/// the temporary file is removed and an existing file at `tokens_path` is left as it was (were only the
/// final rename to fail, after the commit, the error names the temporary file that holds the tokens).
seed_summary seed_database_to_file(const seed_options& opts, const std::string& tokens_path);

} // namespace booking
