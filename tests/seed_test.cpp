#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <sys/stat.h>

#include "fixtures.hpp"
#include "http/seed_options.hpp"
#include "model/seed.hpp"
#include "model/token_hash.hpp"

using namespace booking;

namespace {

std::string dump(const std::string& path) {
  sql::connection c{path, 1000};
  std::string out;
  for (auto q : {"SELECT group_concat(id || name || email || credits || leave_quota) FROM users",
                 "SELECT group_concat(id || title || starts_at || capacity) FROM sessions",
                 "SELECT group_concat(user_id || session_id || status || created_at) FROM bookings"}) {
    sql::statement st{c, q};
    if (st.step())
      out += st.text(0) + "|";
  }
  return out;
}

seed_options opts(const std::string& path, std::uint64_t seed) {
  seed_options o;
  o.db_path = path;
  o.users = 300;
  o.weeks = 6;
  o.random_seed = seed;
  o.now = test::utc("2026-11-25T04:00:00Z");
  return o;
}

} // namespace

TEST_CASE("seeding is deterministic for a seed and realistic") {
  test::temp_dir dir;
  std::ostringstream t1, t2, t3;
  auto s1 = seed_database(opts(dir.file("a.db"), 7), t1);
  seed_database(opts(dir.file("b.db"), 7), t2);
  seed_database(opts(dir.file("c.db"), 8), t3);
  // The same data for the same seed; the tokens are random every time (bearer credentials).
  CHECK(dump(dir.file("a.db")) == dump(dir.file("b.db")));
  CHECK(dump(dir.file("a.db")) != dump(dir.file("c.db")));
  CHECK(t1.str() != t2.str());
  CHECK(t1.str().size() == t2.str().size());

  CHECK(s1.users == 300);
  CHECK(s1.admins == 1);
  CHECK(s1.booked > 0);
  CHECK(s1.cancelled > 0);
  CHECK(s1.leave > 0);
  CHECK(s1.full_sessions > 0);
  CHECK(t1.str().rfind("user_id,role,token\n", 0) == 0);
  CHECK(t1.str().find(",admin,") != std::string::npos);

  sql::connection c{dir.file("a.db"), 1000};
  auto scalar = [&](const char* q) {
    sql::statement st{c, q};
    return st.step() ? st.int64(0) : -1;
  };
  CHECK(scalar("SELECT count(*) FROM users WHERE credits >= 4 AND leave_quota >= 1") >= 150);
  CHECK(scalar("SELECT count(*) FROM (SELECT s.id FROM sessions s JOIN bookings b ON b.session_id = s.id "
               "AND b.status = 'booked' GROUP BY s.id HAVING count(*) > s.capacity)") == 0);
  CHECK(scalar("SELECT count(DISTINCT location_id) FROM sessions") == 5);
  // Weeks: 3 before the current one, 3 from it on (current week starts 2026-11-23 in Taipei).
  CHECK(scalar("SELECT min(starts_at) >= CAST(strftime('%s', '2026-11-01T16:00:00') AS INTEGER) FROM sessions") == 1);
  CHECK(scalar("SELECT max(starts_at) < CAST(strftime('%s', '2026-12-13T16:00:00') AS INTEGER) FROM sessions") == 1);
  CHECK(scalar("SELECT count(*) FROM sessions WHERE starts_at > CAST(strftime('%s', '2026-11-25T04:00:00') AS INTEGER)") > 0);
  CHECK(scalar("SELECT count(*) FROM api_tokens") == 301);
  // Nothing is dated after the seeding.
  const char* after_now = "CAST(strftime('%s', '2026-11-25T04:00:00') AS INTEGER)";
  for (auto q : {"SELECT count(*) FROM bookings WHERE created_at > ", "SELECT count(*) FROM bookings WHERE updated_at > ",
                 "SELECT count(*) FROM waitlist_entries WHERE joined_at > ",
                 "SELECT count(*) FROM waitlist_entries WHERE updated_at > ",
                 "SELECT count(*) FROM credit_ledger WHERE created_at > "})
    CHECK_MESSAGE(scalar((std::string(q) + after_now).c_str()) == 0, q);
}

TEST_CASE("the seed has full future sessions with waiting entries, and an opening ledger") {
  test::temp_dir dir;
  std::ostringstream t;
  auto o = opts(dir.file("w.db"), 7);
  auto sum = seed_database(o, t);
  CHECK(sum.waiting >= 10);
  sql::connection c{dir.file("w.db"), 1000};
  auto scalar = [&](const std::string& q) {
    sql::statement st{c, q.c_str()};
    return st.step() ? st.int64(0) : -1;
  };
  auto now = std::to_string(o.now.time_since_epoch().count());
  CHECK(scalar("SELECT count(*) FROM waitlist_entries") == sum.waiting);
  CHECK(scalar("SELECT count(DISTINCT session_id) FROM waitlist_entries") == 5);
  // Every waitlisted session is full, starts at least two days ahead, and none of its waiters holds a seat.
  CHECK(scalar("SELECT count(*) FROM waitlist_entries w JOIN sessions s ON s.id = w.session_id WHERE "
               "w.status != 'waiting' OR s.starts_at < " + now + " + 172800 OR s.capacity > (SELECT count(*) "
               "FROM bookings b WHERE b.session_id = s.id AND b.status = 'booked') OR EXISTS (SELECT 1 FROM "
               "bookings b WHERE b.session_id = s.id AND b.user_id = w.user_id AND b.status = 'booked') OR "
               "w.joined_at >= " + now + " OR (SELECT credits FROM users WHERE id = w.user_id) < 1") == 0);
  CHECK(scalar("SELECT count(*) FROM waitlist_entries GROUP BY session_id ORDER BY 1 LIMIT 1") >= 2);
  CHECK(scalar("SELECT count(*) FROM users u WHERE credits != (SELECT sum(delta) FROM credit_ledger l "
               "WHERE l.user_id = u.id AND l.reason = 'opening')") == 0);
  CHECK(sum.full_sessions >= 5);
}

TEST_CASE("a small demo (10 members, 1-4 weeks) still has full sessions with waiting entries") {
  for (int weeks = 1; weeks <= 4; ++weeks) {
    for (std::uint64_t seed : {5, 11}) {
      INFO("weeks " << weeks << " seed " << seed);
      test::temp_dir dir;
      std::ostringstream t;
      auto o = opts(dir.file("small.db"), seed);
      o.users = 10;
      o.weeks = weeks;
      auto sum = seed_database(o, t);
      sql::connection c{dir.file("small.db"), 1000};
      sql::statement st{c, "SELECT count(DISTINCT w.session_id) FROM waitlist_entries w JOIN sessions s ON "
                           "s.id = w.session_id WHERE w.status = 'waiting' AND s.capacity <= (SELECT count(*) "
                           "FROM bookings b WHERE b.session_id = s.id AND b.status = 'booked')"};
      REQUIRE(st.step());
      CHECK(st.int64(0) >= 2);
      CHECK(sum.waiting >= 2);
    }
  }
}

TEST_CASE("seeding refuses a database that holds users") {
  test::temp_dir dir;
  std::ostringstream t;
  seed_database(opts(dir.file("a.db"), 1), t);
  CHECK_THROWS(seed_database(opts(dir.file("a.db"), 1), t));
}

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream{path, std::ios::binary | std::ios::trunc} << text;
}

unsigned mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::vector<std::string> names_in(const test::temp_dir& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator{std::filesystem::path{dir.file("")}})
    out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

/// The reason parse_seed_command_line gives for refusing `args` ("" when it accepts them).
std::string refusal(const std::vector<std::string>& args) {
  try {
    parse_seed_command_line(args);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST_CASE("a refused re-seed leaves the tokens file as it was; a seed writes it whole") {
  test::temp_dir dir;
  auto o = opts(dir.file("z.db"), 3);
  o.users = 3;
  auto tokens = dir.file("z.csv");
  auto sum = seed_database_to_file(o, tokens);
  CHECK(sum.users == 3);
  auto first = slurp(tokens);
  { // every line is a token the database knows, for that user and role
    sql::connection c{dir.file("z.db"), 1000};
    std::istringstream in{first};
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      auto c1 = line.find(','), c2 = line.rfind(',');
      sql::statement st{c, "SELECT count(*) FROM api_tokens WHERE token_hash = ?1 AND user_id = ?2 AND role = ?3"};
      st.bind(1, sha256_hex(line.substr(c2 + 1))).bind(2, static_cast<std::int64_t>(std::stoll(line.substr(0, c1))))
        .bind(3, line.substr(c1 + 1, c2 - c1 - 1));
      REQUIRE(st.step());
      CHECK_MESSAGE(st.int64(0) == 1, line);
    }
  }
  CHECK(first.rfind("user_id,role,token\n", 0) == 0);
  CHECK(std::count(first.begin(), first.end(), '\n') == 5); // header, 3 members, the admin
  auto before = names_in(dir);

  CHECK_THROWS_WITH_AS(seed_database_to_file(o, tokens), doctest::Contains("already holds users"), std::runtime_error);
  CHECK(slurp(tokens) == first);
  CHECK(names_in(dir) == before); // no temporary file left behind

  // A tokens file that cannot be created stops the seed before the database is touched.
  auto o2 = opts(dir.file("y.db"), 3);
  o2.users = 3;
  CHECK_THROWS_AS(seed_database_to_file(o2, dir.file("missing/y.csv")), std::runtime_error);
  CHECK_FALSE(std::filesystem::exists(dir.file("y.db")));
  seed_database_to_file(o2, dir.file("y.csv")); // so that y.db can still be seeded
  CHECK(slurp(dir.file("y.csv")).size() == first.size());
}

TEST_CASE("the tokens file is created with mode 0600 whatever the umask, replacing an older file") {
  test::temp_dir dir;
  auto tokens = dir.file("t.csv");
  auto o = opts(dir.file("t.db"), 4);
  o.users = 2;
  auto old_mask = ::umask(0);
  seed_database_to_file(o, tokens);
  ::umask(old_mask);
  CHECK(mode_of(tokens) == 0600);

  auto replaced = dir.file("old.csv");
  write_text(replaced, "stale\n");
  REQUIRE(::chmod(replaced.c_str(), 0644) == 0);
  auto o2 = opts(dir.file("u.db"), 4);
  o2.users = 2;
  seed_database_to_file(o2, replaced);
  CHECK(mode_of(replaced) == 0600);
  // Same options, same members and roles, other tokens: a token is never derived from the seed's
  // options (a black-box review recomputed the admin's token from --random-seed).
  std::istringstream a{slurp(tokens)}, b{slurp(replaced)};
  std::string la, lb;
  int lines = 0;
  while (std::getline(a, la) && std::getline(b, lb)) {
    ++lines;
    if (lines == 1) {
      CHECK(la == lb); // the header
      continue;
    }
    CHECK(la.substr(0, la.rfind(',')) == lb.substr(0, lb.rfind(',')));
    CHECK(la.substr(la.rfind(',') + 1) != lb.substr(lb.rfind(',') + 1));
    CHECK(la.size() - la.rfind(',') > 40); // 32 random bytes, base64url
  }
  CHECK(lines == 4); // header, two members, the admin
}

TEST_CASE("booking-seed's command line: a config file with the flags' keys, flags override it") {
  test::temp_dir dir;
  auto ini = dir.file("seed.ini");
  write_text(ini, "# demo data\n"
                  "[global]\n"
                  "db = \"" + dir.file("c.db") + "\"  ; where\n"
                  "users = 12\n"
                  "\n"
                  "   weeks=2   # two weeks\n"
                  "locations = 2\n"
                  "random-seed = 9\n"
                  "timezone = \"Europe/Berlin\"\n"
                  "tokens-out = \"" + dir.file("c tokens.csv") + "\"\n");
  auto cl = parse_seed_command_line({"--users=11", "--config-file=" + ini, "--locations=3"});
  CHECK_FALSE(cl.help);
  CHECK(cl.options.db_path == dir.file("c.db"));
  CHECK(cl.options.users == 11); // the flag wins, wherever it stands
  CHECK(cl.options.locations == 3);
  CHECK(cl.options.weeks == 2);
  CHECK(cl.options.random_seed == 9);
  CHECK(cl.options.timezone == "Europe/Berlin");
  CHECK(cl.tokens_out == dir.file("c tokens.csv"));
  cl.options.now = test::utc("2026-11-26T04:00:00Z");
  auto sum = seed_database_to_file(cl.options, cl.tokens_out);
  CHECK(sum.users == 11);
  CHECK(sum.locations == 3);
  CHECK(sum.first_week == "2026-11-16");
  auto lines = slurp(cl.tokens_out);
  CHECK(std::count(lines.begin(), lines.end(), '\n') == 13); // header, 11 members, the admin

  auto plain = parse_seed_command_line({"--config-file", ini});
  CHECK(plain.options.users == 12);
  CHECK(plain.options.locations == 2);
  auto defaults = parse_seed_command_line({"--db=x.db"});
  CHECK(defaults.options.users == seed_options{}.users);
  CHECK(defaults.tokens_out == "x.db.tokens.csv");
  CHECK(parse_seed_command_line({"--users=3", "--help"}).help);
}

TEST_CASE("booking-seed's command line refuses what it does not understand, with the reason") {
  test::temp_dir dir;
  auto file = [&](const std::string& name, const std::string& text) {
    write_text(dir.file(name), text);
    return "--config-file=" + dir.file(name);
  };
  CHECK(refusal({"--users=3"}).find("--db=PATH is required") != std::string::npos);
  CHECK(refusal({"--config-file=" + dir.file("none.ini"), "--db=x.db"}).find("cannot read config file") != std::string::npos);
  CHECK(refusal({"--config-file=" + dir.file(""), "--db=x.db"}).find("cannot read config file") != std::string::npos);
  CHECK(refusal({file("port.ini", "users = 3\nport = 8080\n"), "--db=x.db"}).find("port.ini:2: unknown key 'port'") !=
        std::string::npos);
  CHECK(refusal({file("eq.ini", "users 3\n"), "--db=x.db"}).find("eq.ini:1:") != std::string::npos);
  CHECK(refusal({file("quote.ini", "db = \"x.db\n")}).find("quote.ini:1:") != std::string::npos);
  CHECK(refusal({file("tail.ini", "db = \"x.db\" y\n")}).find("tail.ini:1:") != std::string::npos);
  CHECK(refusal({file("num.ini", "users = twelve\n"), "--db=x.db"}).find("num.ini:1: users must be a whole number") !=
        std::string::npos);
  CHECK(refusal({file("sect.ini", "[scheduler]\n"), "--db=x.db"}).find("sect.ini:1:") != std::string::npos);
  CHECK(refusal({"--db=x.db", "--port=1"}).find("unknown argument '--port=1'") != std::string::npos);
  CHECK(refusal({"--db=x.db", "--users"}) != "");
  CHECK(refusal({"--db=x.db", "--users=12x"}).find("--users must be a whole number") != std::string::npos);
  CHECK(refusal({"--db=x.db", "--weeks=0"}).find("--weeks must be at least 1") != std::string::npos);
  CHECK(refusal({"--db=x.db", "--random-seed=-1"}) != "");
  CHECK(refusal({"--db=x.db", "--timezone=Mars/Olympus"}).find("unknown time zone") != std::string::npos);
  CHECK(refusal({"--db=x.db", "--config-file"}) != "");
  CHECK(refusal({file("ok.ini", "db = \"a \\\"b\\\".db\" # c\n")}) == "");
  CHECK(parse_seed_command_line({file("ok2.ini", "db = \"a \\\"b\\\"\\\\.db\"\n")}).options.db_path == "a \"b\"\\.db");
}

TEST_CASE("every booking status is present with 10 or more members, and the other promises hold") {
  // 2026-11-26 is a Thursday; 2026-11-29T14:00Z is late on Sunday in Taipei (little of the week ahead).
  for (auto today : {"2026-11-26T00:00:00Z", "2026-11-26T09:30:00Z", "2026-11-29T14:00:00Z"}) {
    for (int users = 10; users <= 14; ++users) {
      for (int weeks = 1; weeks <= 3; ++weeks) {
        for (std::uint64_t seed : {1, 42, 99}) {
          CAPTURE(today);
          CAPTURE(users);
          CAPTURE(weeks);
          CAPTURE(seed);
          test::temp_dir dir;
          std::ostringstream t;
          auto o = opts(dir.file("s.db"), seed);
          o.users = users;
          o.weeks = weeks;
          o.now = test::utc(today);
          auto sum = seed_database(o, t);
          CHECK(sum.booked > 0);
          CHECK(sum.cancelled > 0);
          CHECK(sum.leave > 0);
          sql::connection c{dir.file("s.db"), 1000};
          auto scalar = [&](const std::string& q) {
            sql::statement st{c, q.c_str()};
            return st.step() ? st.int64(0) : -1;
          };
          auto now = std::to_string(o.now.time_since_epoch().count());
          for (auto status : {"booked", "cancelled", "leave"})
            CHECK(scalar(std::string("SELECT count(*) FROM bookings WHERE status = '") + status + "'") > 0);
          // At least half of the users (the admin too) with >= 4 credits and >= 1 leave.
          CHECK(2 * scalar("SELECT count(*) FROM users WHERE credits >= 4 AND leave_quota >= 1") >=
                scalar("SELECT count(*) FROM users"));
          CHECK(scalar("SELECT count(*) FROM users u WHERE credits != (SELECT sum(delta) FROM credit_ledger l "
                       "WHERE l.user_id = u.id)") == 0);
          CHECK(scalar("SELECT count(*) FROM bookings WHERE created_at > " + now + " OR updated_at > " + now) == 0);
          // Made, cancelled and left before the start; a cancel refunded exactly when 12 h or more before it;
          // a leave always refunded.
          CHECK(scalar("SELECT count(*) FROM bookings b JOIN sessions s ON s.id = b.session_id WHERE "
                       "b.created_at >= s.starts_at OR (b.status != 'booked' AND b.updated_at >= s.starts_at) OR "
                       "(b.status = 'cancelled' AND b.credit_refunded != (b.updated_at <= s.starts_at - 43200)) OR "
                       "(b.status = 'leave' AND b.credit_refunded != 1)") == 0);
          CHECK(scalar("SELECT count(*) FROM (SELECT s.id FROM sessions s JOIN bookings b ON b.session_id = s.id "
                       "AND b.status = 'booked' GROUP BY s.id HAVING count(*) > s.capacity)") == 0);
          CHECK(scalar("SELECT count(*) FROM (SELECT 1 FROM bookings WHERE status = 'booked' GROUP BY user_id, "
                       "session_id HAVING count(*) > 1)") == 0);
          // Waiting entries only on full sessions before the default cut-off, never for a member with a seat
          // there; and a few of them whenever the seeded weeks have sessions two days ahead.
          CHECK(scalar("SELECT count(*) FROM waitlist_entries w JOIN sessions s ON s.id = w.session_id WHERE "
                       "s.starts_at < " + now + " + 14 * 3600 OR w.joined_at > " + now + " OR s.capacity > "
                       "(SELECT count(*) FROM bookings b WHERE b.session_id = s.id AND b.status = 'booked') OR "
                       "EXISTS (SELECT 1 FROM bookings b WHERE b.session_id = s.id AND b.user_id = w.user_id "
                       "AND b.status = 'booked')") == 0);
          if (scalar("SELECT count(*) FROM sessions WHERE starts_at >= " + now + " + 172800") > 20)
            CHECK(sum.waiting >= 2);
        }
      }
    }
  }
}

TEST_CASE("late in the week, a one- or two-week demo queues waiting entries on sessions at least 15 hours ahead") {
  // Saturday 08:00 in Taipei: no seeded session starts two days ahead, all of Sunday's start 15 hours ahead.
  for (int weeks = 1; weeks <= 2; ++weeks) {
    for (std::uint64_t seed : {1, 42, 99}) {
      CAPTURE(weeks);
      CAPTURE(seed);
      test::temp_dir dir;
      std::ostringstream t;
      auto o = opts(dir.file("late.db"), seed);
      o.users = 12;
      o.weeks = weeks;
      o.now = test::utc("2026-11-28T00:00:00Z");
      auto sum = seed_database(o, t);
      sql::connection c{dir.file("late.db"), 1000};
      auto scalar = [&](const std::string& q) {
        sql::statement st{c, q.c_str()};
        return st.step() ? st.int64(0) : -1;
      };
      auto now = std::to_string(o.now.time_since_epoch().count());
      REQUIRE(scalar("SELECT count(*) FROM sessions WHERE starts_at >= " + now + " + 172800") == 0);
      CHECK(sum.waiting >= 2);
      CHECK(scalar("SELECT count(DISTINCT session_id) FROM waitlist_entries") >= 2);
      CHECK(scalar("SELECT count(*) FROM waitlist_entries w JOIN sessions s ON s.id = w.session_id WHERE "
                   "s.starts_at < " + now + " + 15 * 3600 OR s.capacity > (SELECT count(*) FROM bookings b WHERE "
                   "b.session_id = s.id AND b.status = 'booked')") == 0);
    }
  }
}
