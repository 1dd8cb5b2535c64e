#include "model/seed.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/admin_store.hpp"
#include "model/sqlite.hpp"
#include "model/store.hpp"
#include "model/time_zone.hpp"
#include "model/token_hash.hpp"

namespace booking {

namespace {

const char* const first_names[] = {"Mei", "Jun", "Yu-Ting", "Wei", "Hsin", "Chen", "Li", "Ting", "Anna", "Ben",
                                   "Chloe", "David", "Emma", "Felix", "Grace", "Hugo", "Iris", "Jack"};
const char* const last_names[] = {"Lin", "Chang", "Wang", "Huang", "Wu", "Tsai", "Liu", "Yang", "Smith", "Lee"};
const char* const classes[] = {"Strength Basics", "HIIT", "Mobility Flow", "Olympic Lifting", "Boxing Conditioning",
                               "Kettlebell", "Core & Stability", "Spin", "Yoga Recovery", "Powerlifting"};
const char* const coaches[] = {"Coach Amy", "Coach Bruce", "Coach Cindy", "Coach Daniel", "Coach Eva",
                               "Coach Frank", "Coach Gina", "Coach Henry"};
const char* const districts[] = {"Xinyi", "Da'an", "Zhongshan", "Songshan", "Neihu", "Beitou", "Wanhua", "Shilin"};
const char* const reasons[] = {"Work trip", "Feeling unwell", "Family event", "出差", "身體不適", ""};
const int capacities[] = {6, 8, 12, 12, 16, 16, 20, 24, 30};
const int start_hours[] = {7, 8, 9, 10, 12, 14, 16, 17, 18, 19, 20, 21};


struct seeded_session {
  id_type id;
  instant starts;
  int capacity;
  int booked;
};

/// Every booking status present (SPEC §6: whenever there are >= 10 users; done for any member count): a
/// status the random demand did not draw gets one booking, for the first member from a rotating start
/// who has no booking for the session, on the session nearest to now (upcoming ones first, then the
/// latest past ones) that has a seat when the status is `booked`. It is made two days before the session
/// (or two hours before now, whichever is earlier) and cancelled or left an hour later: before the start,
/// outside the cancel window (so refunded), and never after the seeding. A leave needs no particular
/// quota left: `leave_quota` is what remains.
template <class AddBooking>
void ensure_every_status(sql::connection& c, std::vector<std::vector<seeded_session>>& by_week, int members,
                         instant now, AddBooking& add_booking) {
  if (members < 1)
    return;
  const booking_status all[] = {booking_status::booked, booking_status::cancelled, booking_status::leave};
  auto present = [&](booking_status st) {
    sql::statement q{c, "SELECT 1 FROM bookings WHERE status = ?1 LIMIT 1"};
    q.bind(1, to_string(st));
    return q.step();
  };
  std::vector<seeded_session*> order;
  for (auto& week : by_week)
    for (auto& ss : week)
      order.push_back(&ss);
  std::stable_sort(order.begin(), order.end(), [&](const seeded_session* a, const seeded_session* b) {
    bool fa = a->starts > now, fb = b->starts > now;
    if (fa != fb)
      return fa;
    return fa ? a->starts < b->starts : a->starts > b->starts;
  });
  sql::statement has{c, "SELECT 1 FROM bookings WHERE user_id = ?1 AND session_id = ?2"};
  for (int i = 0; i < static_cast<int>(std::size(all)); ++i) {
    auto st = all[i];
    if (present(st))
      continue;
    bool done = false;
    for (int n = 0; n < members && !done; ++n) {
      id_type user = 1 + (i + n) % members;
      for (auto* ss : order) {
        if (st == booking_status::booked && ss->booked >= ss->capacity)
          continue;
        has.bind(1, user).bind(2, ss->id);
        bool taken = has.step();
        has.reset();
        if (taken)
          continue;
        auto created = std::min(ss->starts - std::chrono::hours{48}, now - std::chrono::hours{2});
        auto updated = st == booking_status::booked ? created : created + std::chrono::hours{1};
        add_booking(user, *ss, st, created, updated, st != booking_status::booked,
                    st == booking_status::leave ? std::string("Feeling unwell") : std::string());
        done = true;
        break;
      }
    }
  }
}

/// A few full sessions with waiting entries (SPEC §6): the fullest sessions starting at least two days
/// from now (before any sensible waitlist cut-off) are filled to capacity by members not booked there,
/// then 2-4 more members with credits join each waitlist, an hour apart, in a deterministic order.
/// When the seeded weeks hold too few sessions that far ahead (one or two weeks late in the current one),
/// sessions starting at least 15 hours ahead (past the default 14-hour cut-off) are used as well.
void seed_waitlists(sql::connection& c, int members, instant now, seed_summary& sum) {
  constexpr int sessions_with_waitlist = 5;
  constexpr int enough_for_a_demo = 2;
  struct target {
    id_type id;
    int capacity, taken;
  };
  auto future_sessions = [&](std::chrono::hours ahead, const char* order, int limit) {
    sql::statement st{c, (std::string("SELECT s.id, s.capacity, (SELECT count(*) FROM bookings b WHERE "
                                      "b.session_id = s.id AND b.status = 'booked') AS taken FROM sessions s "
                                      "WHERE s.starts_at >= ?1 ORDER BY ") + order + " LIMIT ?2").c_str()};
    st.bind(1, (now + ahead).time_since_epoch().count()).bind(2, limit);
    std::vector<target> out;
    while (st.step())
      out.push_back(target{st.int64(0), st.int32(1), st.int32(2)});
    return out;
  };
  sql::statement candidates{c, "SELECT u.id FROM users u WHERE u.id <= ?1 AND u.credits >= 1 AND NOT EXISTS "
                               "(SELECT 1 FROM bookings b WHERE b.user_id = u.id AND b.session_id = ?2 AND "
                               "b.status = 'booked') ORDER BY (u.id * 2654435761 + ?2 * 40503) % 1000003, u.id "
                               "LIMIT ?3"};
  sql::statement book{c, "INSERT INTO bookings (user_id, session_id, status, credit_refunded, created_at, "
                          "updated_at) VALUES (?1, ?2, 'booked', 0, ?3, ?3)"};
  sql::statement wait{c, "INSERT INTO waitlist_entries (session_id, user_id, status, joined_at, updated_at) "
                         "VALUES (?1, ?2, 'waiting', ?3, ?3)"};
  int k = 0;
  std::vector<id_type> queued;
  auto is_in = [](const std::vector<id_type>& v, id_type id) { return std::find(v.begin(), v.end(), id) != v.end(); };
  // Fills `t` to capacity and queues `waiters` behind it; false (and nothing written) when there are
  // too few members.
  auto fill_and_queue = [&](const target& t, int open, int waiters) {
    std::vector<id_type> ids;
    candidates.bind(1, members).bind(2, t.id).bind(3, open + waiters);
    while (candidates.step())
      ids.push_back(candidates.int64(0));
    candidates.reset();
    if (static_cast<int>(ids.size()) < open + waiters)
      return false;
    auto booked_at = (now - std::chrono::hours{30}).time_since_epoch().count();
    for (int i = 0; i < open; ++i) {
      book.bind(1, ids[static_cast<size_t>(i)]).bind(2, t.id).bind(3, booked_at).run();
      ++sum.bookings;
      ++sum.booked;
    }
    for (int i = 0; i < waiters; ++i) {
      auto joined = now - std::chrono::hours{waiters - i};
      wait.bind(1, t.id).bind(2, ids[static_cast<size_t>(open + i)]).bind(3, joined.time_since_epoch().count()).run();
      ++sum.waiting;
    }
    queued.push_back(t.id);
    return true;
  };
  auto fill_sessions_starting_after = [&](std::chrono::hours ahead) {
    auto fullest = future_sessions(ahead, "taken * 1.0 / s.capacity DESC, s.starts_at, s.id", sessions_with_waitlist);
    for (const auto& t : fullest)
      if (static_cast<int>(queued.size()) < sessions_with_waitlist && !is_in(queued, t.id))
        fill_and_queue(t, std::max(0, t.capacity - t.taken), 2 + k++ % 3);
    // Few members (a small demo): the sessions with the fewest open seats, until enough are queued, with
    // fewer waiters where the members run out (at least one).
    for (const auto& t : future_sessions(ahead, "s.capacity - taken, s.starts_at, s.id", 200)) {
      if (static_cast<int>(queued.size()) == sessions_with_waitlist)
        break;
      if (is_in(queued, t.id) ||
          std::any_of(fullest.begin(), fullest.end(), [&](const target& x) { return x.id == t.id; }))
        continue;
      int open = std::max(0, t.capacity - t.taken);
      fill_and_queue(t, open, std::min(2 + k++ % 3, std::max(1, members - open - t.taken)));
    }
  };
  fill_sessions_starting_after(std::chrono::hours{48});
  if (static_cast<int>(queued.size()) < enough_for_a_demo)
    fill_sessions_starting_after(std::chrono::hours{15});
}

} // namespace

namespace {

/// seed_database; `before_commit` runs once every row and token line is written, inside the transaction:
/// if it throws, nothing is committed.
seed_summary seed(const seed_options& o, std::ostream& tokens, const std::function<void()>& before_commit) {
  if (o.users < 0 || o.locations < 1 || o.weeks < 1)
    throw std::runtime_error("users must be >= 0, locations and weeks >= 1");
  zone z{o.timezone};
  store s{store_options{o.db_path, 5000}}; // creates the schema
  auto& c = s.connection();
  {
    sql::statement count{c, "SELECT count(*) FROM users"};
    sql::scoped_reset r{count};
    if (count.step() && count.int64(0) > 0)
      throw std::runtime_error("database already holds users: seed only an empty database");
  }
  std::mt19937_64 rng{o.random_seed};
  auto pick = [&](auto& arr) -> decltype(arr[0]) { return arr[rng() % std::size(arr)]; };
  seed_summary sum;
  sql::transaction tx{c, true};

  sql::statement ins_loc{c, "INSERT INTO locations (id, name, address) VALUES (?1, ?2, ?3)"};
  for (int i = 1; i <= o.locations; ++i) {
    std::string d = districts[(i - 1) % std::size(districts)];
    ins_loc.bind(1, i).bind(2, "Studio " + d + (i > 8 ? " " + std::to_string(i) : ""))
      .bind(3, std::to_string(10 + i * 7) + " " + d + " Road, Taipei").run();
  }
  sum.locations = o.locations;

  // Sessions: weeks/2 weeks before the current one, the rest from it on; one class per slot a day.
  std::vector<std::vector<seeded_session>> by_week(static_cast<size_t>(o.weeks));
  auto now = o.now;
  auto this_monday = monday_of(z.date_of(now));
  auto first_monday = this_monday - date::days{7 * (o.weeks / 2)};
  sum.first_week = format_date(first_monday);
  sum.last_week = format_date(first_monday + date::days{7 * (o.weeks - 1)});
  sql::statement ins_sess{c, "INSERT INTO sessions (id, location_id, title, coach, starts_at, ends_at, capacity) "
                             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"};
  id_type sid = 0;
  // Parallel rooms keep seats ahead of demand (about 1.5 classes a member a week) as members grow.
  int rooms = std::max(1, (o.users + 1499) / 1500 * 5 / o.locations);
  for (int w = 0; w < o.weeks; ++w) {
    for (int d = 0; d < 7; ++d) {
      auto day = first_monday + date::days{7 * w + d};
      for (int l = 1; l <= o.locations; ++l) {
        for (int slot = 0; slot < static_cast<int>(std::size(start_hours)) * rooms; ++slot) {
          int h = start_hours[slot % std::size(start_hours)];
          if (rng() % 4 == 0)
            continue; // not every slot has a class
          auto start = z.start_of(day) + std::chrono::hours{h} + std::chrono::minutes{30 * (rng() % 2)};
          int cap = pick(capacities);
          ins_sess.bind(1, ++sid).bind(2, l).bind(3, pick(classes)).bind(4, pick(coaches))
            .bind(5, start.time_since_epoch().count())
            .bind(6, (start + std::chrono::minutes{60}).time_since_epoch().count())
            .bind(7, cap).run();
          by_week[static_cast<size_t>(w)].push_back(seeded_session{sid, start, cap, 0});
        }
      }
    }
  }
  sum.sessions = static_cast<int>(sid);

  sql::statement ins_user{c, "INSERT INTO users (id, name, email, credits, leave_quota) VALUES (?1, ?2, ?3, ?4, ?5)"};
  sql::statement ins_tok{c, "INSERT INTO api_tokens (token_hash, user_id, role, revoked) VALUES (?1, ?2, ?3, 0)"};
  sql::statement ins_book{c, "INSERT INTO bookings (user_id, session_id, status, leave_reason, credit_refunded, "
                             "created_at, updated_at, cancelled_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"};
  auto add_booking = [&](id_type user, seeded_session& ss, booking_status st, instant created, instant updated,
                         bool refunded, const std::string& reason) {
    ins_book.bind(1, user).bind(2, ss.id).bind(3, to_string(st));
    if (reason.empty())
      ins_book.bind_null(4);
    else
      ins_book.bind(4, reason);
    ins_book.bind(5, refunded ? 1 : 0).bind(6, created.time_since_epoch().count())
      .bind(7, updated.time_since_epoch().count());
    if (st == booking_status::cancelled)
      ins_book.bind(8, std::string("member"));
    else
      ins_book.bind_null(8);
    ins_book.run();
    ++sum.bookings;
    if (st == booking_status::booked) {
      ++ss.booked;
      ++sum.booked;
    } else if (st == booking_status::cancelled) {
      ++sum.cancelled;
    } else {
      ++sum.leave;
    }
  };
  tokens << "user_id,role,token\n";
  // At least half of the users (members, and with the admin) get >= 4 credits and >= 1 leave; the rest
  // are near the edges. A quarter are drawn "poor", but never more than half of the members.
  int poor = 0;
  for (int u = 1; u <= o.users + 1; ++u) {
    bool admin = u == o.users + 1;
    bool rich = rng() % 4 != 0 || poor >= o.users / 2;
    if (!rich)
      ++poor;
    int credits = rich ? 4 + static_cast<int>(rng() % 37) : static_cast<int>(rng() % 4);
    int quota = rich ? 1 + static_cast<int>(rng() % 6) : static_cast<int>(rng() % 2);
    std::string name = admin ? std::string("Studio Admin")
                             : std::string(pick(first_names)) + " " + pick(last_names);
    ins_user.bind(1, u).bind(2, name)
      .bind(3, admin ? std::string("admin@studio.example") : "member" + std::to_string(u) + "@studio.example")
      .bind(4, credits).bind(5, quota).run();
    // Tokens are bearer credentials: drawn from OpenSSL's generator like the admin routes' tokens,
    // never from the demo data's seeded sequence (anyone who knew or guessed --random-seed could
    // recompute every token, the admin's too). The 40 draws a token used to take are still made, so
    // the demo data of a given seed stays what it was.
    auto token = new_token();
    rng.discard(40);
    ins_tok.bind(1, sha256_hex(token)).bind(2, u).bind(3, admin ? "admin" : "member").run();
    tokens << u << ',' << (admin ? "admin" : "member") << ',' << token << '\n';
    if (admin) {
      ++sum.admins;
      continue;
    }
    ++sum.users;
    for (int w = 0; w < o.weeks; ++w) {
      auto& week = by_week[static_cast<size_t>(w)];
      if (week.empty())
        continue;
      int wanted = static_cast<int>(rng() % 4); // 0..3 classes a week
      std::vector<id_type> taken;
      for (int k = 0, tries = 0; k < wanted && tries < 8; ++tries) {
        // A third of the demand goes to a few popular classes, so some sessions fill up.
        auto popular = std::max<size_t>(1, week.size() / 40);
        auto& ss = week[rng() % 3 == 0 ? rng() % popular : rng() % week.size()];
        if (ss.booked >= ss.capacity || std::find(taken.begin(), taken.end(), ss.id) != taken.end())
          continue;
        ++k;
        taken.push_back(ss.id);
        auto roll = rng() % 10;
        booking_status st = roll < 7 ? booking_status::booked
                                     : (roll < 9 ? booking_status::cancelled : booking_status::leave);
        auto created = ss.starts - std::chrono::hours{24 + static_cast<int>(rng() % 240)};
        if (created > now)
          created = now - std::chrono::hours{1};
        auto updated = st == booking_status::booked ? created : created + std::chrono::hours{1 + rng() % 12};
        if (updated > now) // a change is never dated after the seeding
          updated = now;
        bool refunded = st == booking_status::leave || (st == booking_status::cancelled && rng() % 3 != 0);
        if (st == booking_status::cancelled && !refunded) {
          // No refund means a cancel inside the cancel window (SPEC §3: 12 h by default); one that could
          // only be dated before it (the session is still more than an hour away) was refunded.
          auto late = ss.starts - std::chrono::hours{1 + ss.id % 11};
          if (late <= now && late > created)
            updated = late;
          else
            refunded = true;
        }
        std::string reason = st == booking_status::leave ? pick(reasons) : "";
        add_booking(u, ss, st, created, updated, refunded, reason);
      }
    }
  }
  ensure_every_status(c, by_week, o.users, now, add_booking);
  if (o.users >= 10)
    seed_waitlists(c, o.users, now, sum);
  {
    sql::statement full{c, "SELECT count(*) FROM sessions s WHERE capacity <= (SELECT count(*) FROM bookings b "
                           "WHERE b.session_id = s.id AND b.status = 'booked')"};
    sum.full_sessions = full.step() ? full.int32(0) : 0;
  }
  // Every user's credits open the ledger (credits = sum of deltas from here on).
  sql::statement opening{c, "INSERT INTO credit_ledger (user_id, delta, balance_after, reason, created_at) "
                            "SELECT id, credits, credits, 'opening', ?1 FROM users ORDER BY id"};
  opening.bind(1, now.time_since_epoch().count()).run();
  tokens.flush();
  if (!tokens)
    throw std::runtime_error("cannot write the tokens");
  if (before_commit)
    before_commit();
  tx.commit();
  c.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  c.exec("ANALYZE");
  return sum;
}

} // namespace

seed_summary seed_database(const seed_options& o, std::ostream& tokens) {
  return seed(o, tokens, {});
}

seed_summary seed_database_to_file(const seed_options& o, const std::string& tokens_path) {
  namespace fs = std::filesystem;
  fs::path target{tokens_path};
  std::error_code ec;
  if (tokens_path.empty() || !target.has_filename() || fs::is_directory(target, ec))
    throw std::runtime_error("the tokens file needs a file name, not a directory: '" + tokens_path + "'");
  auto failed = [](const std::string& what) { return std::runtime_error(what + ": " + std::strerror(errno)); };
  // A new file beside the target (so the rename stays on one file system), created exclusively with
  // 0600 and set to it again (fchmod ignores the umask): the tokens are bearer credentials.
  static std::atomic<unsigned> counter{0};
  std::string temp;
  int fd = -1;
  for (int attempt = 0; fd < 0; ++attempt) {
    temp = (target.parent_path() / ("." + target.filename().string() + ".tmp-" + std::to_string(::getpid()) + "-" +
                                    std::to_string(counter++))).string();
    fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && (errno != EEXIST || attempt >= 100))
      throw failed("cannot create a temporary tokens file beside " + tokens_path);
  }
  struct temp_file {
    std::string path;
    int fd;
    bool keep = false;
    ~temp_file() {
      if (fd >= 0)
        ::close(fd);
      if (!keep)
        ::unlink(path.c_str());
    }
  } file{temp, fd};
  if (::fchmod(fd, 0600) != 0)
    throw failed("cannot restrict " + temp);
  std::ostringstream lines;
  auto sum = seed(o, lines, [&] {
    // Every line on disk before the database commits: a failed write leaves nothing seeded.
    const std::string text = lines.str();
    for (std::size_t done = 0; done < text.size();) {
      auto n = ::write(fd, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        throw failed("cannot write " + temp);
      done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0)
      throw failed("cannot write " + temp);
  });
  // Seeded: from here on the tokens must not be lost, so a failure keeps the temporary file.
  file.keep = true;
  int closing = ::close(file.fd);
  file.fd = -1;
  if (closing != 0 || ::rename(temp.c_str(), tokens_path.c_str()) != 0)
    throw failed("the database is seeded but the tokens could not be moved to " + tokens_path + "; they are in " +
                 temp);
  auto dir = target.parent_path().empty() ? std::string(".") : target.parent_path().string();
  if (int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); d >= 0) {
    ::fsync(d); // the rename itself survives a crash (best effort)
    ::close(d);
  }
  return sum;
}

} // namespace booking
