// booking-admin-token: issues an admin token on an existing database, for the operator of a studio
// whose admin tokens are lost, revoked, or held by a deactivated user (the API issues member tokens
// only). Safe beside a running server: one write transaction, and the server looks the new token up
// on its first use.
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>

#include "model/admin_store.hpp"
#include "model/migrations.hpp"
#include "model/sqlite.hpp"
#include "model/time_zone.hpp"
#include "telemetry/log.hpp"

namespace {

const char* const synopsis = "usage: booking-admin-token --db=PATH --email=EMAIL\n";

void usage(std::ostream& out) {
  out << synopsis
      << "\n"
         "Issues a new admin token to the active user with that email (ASCII case ignored) and writes\n"
         "`user_id,admin,token` to standard output: the only time the token is shown. The database keeps\n"
         "its SHA-256, and the audit trail a `token.issue` event without an actor. Exit status 0 on\n"
         "success, 1 when no active user has the email or the database cannot be used, 2 for a bad\n"
         "command line.\n";
}

} // namespace

int main(int argc, char** argv) {
  std::string db, email;
  for (int i = 1; i < argc; ++i) {
    std::string_view a{argv[i]};
    if (a == "-h" || a == "--help") {
      usage(std::cout);
      return 0;
    }
    if (a.rfind("--db=", 0) == 0 && db.empty()) {
      db = std::string{a.substr(5)};
    } else if (a.rfind("--email=", 0) == 0 && email.empty()) {
      email = std::string{a.substr(8)};
    } else {
      // The flag's name only: its value may be an email.
      booking::log_error("invalid command line").kv("argument", a.substr(0, a.find('=')));
      std::cerr << synopsis;
      return 2;
    }
  }
  if (db.empty() || email.empty()) {
    booking::log_error("invalid command line").kv("error", "--db and --email are required");
    std::cerr << synopsis;
    return 2;
  }
  try {
    // Never create a database here: a mistyped path must not become an empty studio.
    if (!std::filesystem::is_regular_file(db))
      throw std::runtime_error("no database file at " + db);
    booking::sql::connection c{db, 5000};
    {
      booking::sql::statement st{c, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'api_tokens'"};
      if (!st.step())
        throw std::runtime_error(db + " is not a booking database");
    }
    booking::migrate(c); // as the server does when it starts: nothing when the schema is current
    auto issued = booking::issue_admin_token(c, email, booking::now_seconds());
    if (!issued) {
      booking::log_error("no active user has this email");
      return 1;
    }
    std::cout << issued->user_id << ",admin," << issued->token << std::endl;
    booking::log_info("admin token issued").kv("user_id", issued->user_id).kv("token_id", issued->token_id);
  } catch (const std::exception& e) {
    booking::log_error("admin token not issued").kv("error", e.what());
    return 1;
  }
  return 0;
}
