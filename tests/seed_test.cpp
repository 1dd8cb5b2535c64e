#include <doctest/doctest.h>

#include <sstream>

#include "fixtures.hpp"
#include "model/seed.hpp"

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
  CHECK(t1.str() == t2.str());
  CHECK(dump(dir.file("a.db")) == dump(dir.file("b.db")));
  CHECK(t1.str() != t3.str());

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
