#include "model/store.hpp"

#include <algorithm>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "model/ledger.hpp"
#include "model/migrations.hpp"
#include "model/rules.hpp"

namespace booking {

namespace {

// Session columns in this order follow every row prefix that names them (see read_session_at).
#define BOOKING_SESSION_COLUMNS "s.location_id, s.title, s.coach, s.starts_at, s.ends_at, s.capacity, s.status, " \
                                "s.waitlist_capacity"

#define BOOKING_COLUMNS(reason)                                                                         \
  "b.id, b.user_id, b.session_id, b.status, " reason ", b.credit_refunded, b.created_at, b.updated_at, " \
  "b.cancelled_by, b.via_waitlist, " BOOKING_SESSION_COLUMNS
constexpr const char* booking_columns = BOOKING_COLUMNS("b.leave_reason");
// A page never shows leave reasons (only write answers do): cached snapshots do not keep them.
constexpr const char* page_booking_columns = BOOKING_COLUMNS("NULL");

// `position` is live: 1 + the waiting entries of the session ahead in (joined_at, id) order.
constexpr const char* entry_columns =
  "w.id, w.session_id, w.user_id, w.status, w.joined_at, w.updated_at, w.booking_id, w.skip_reason, "
  "CASE WHEN w.status = 'waiting' THEN 1 + (SELECT count(*) FROM waitlist_entries o WHERE o.session_id = "
  "w.session_id AND o.status = 'waiting' AND (o.joined_at < w.joined_at OR (o.joined_at = w.joined_at AND "
  "o.id < w.id))) ELSE 0 END, " BOOKING_SESSION_COLUMNS;

/// Reads the session columns starting at `col` into `s` (its id is set by the caller).
void read_session_at(const sql::statement& st, int col, session& s) {
  s.location_id = st.int64(col);
  s.title = st.text(col + 1);
  s.coach = st.text(col + 2);
  s.starts_at = instant_of(st.int64(col + 3));
  s.ends_at = instant_of(st.int64(col + 4));
  s.capacity = st.int32(col + 5);
  s.status = parse_session_status(st.text(col + 6)).value_or(session_status::scheduled);
  s.waitlist_capacity = st.int32(col + 7);
}

/// One copy of each session in the process, shared by every booking and entry any connection reads
/// (and so by the cached snapshots of every member who holds the session): hash-consing, so a
/// session whose columns changed is read anew and replaces the old copy, which the snapshots taken
/// before keep. Copies nobody else holds are dropped when the table has doubled since the last sweep.
/// Sessions of different databases in one process (tests) are equal only if every column is.
class session_interner {
public:
  session_ref intern(session&& s) {
    std::lock_guard<std::mutex> g{m_};
    auto& slot = map_[s.id];
    if (!slot || *slot != s)
      slot = std::make_shared<const session>(std::move(s));
    session_ref out{slot};
    if (map_.size() >= sweep_at_)
      sweep();
    return out;
  }

  static session_interner& shared() {
    static session_interner instance;
    return instance;
  }

private:
  void sweep() {
    for (auto i = map_.begin(); i != map_.end();)
      i = i->second.use_count() == 1 ? map_.erase(i) : std::next(i);
    sweep_at_ = std::max<std::size_t>(4096, 2 * map_.size());
  }
  std::mutex m_;
  std::unordered_map<id_type, std::shared_ptr<const session>> map_;
  std::size_t sweep_at_ = 4096;
};

session_ref read_session_ref(const sql::statement& st, int col, id_type id) {
  session s;
  s.id = id;
  read_session_at(st, col, s);
  return session_interner::shared().intern(std::move(s));
}

static_assert(sizeof(booking) <= 64, "a booking is kept in every cached snapshot: keep it small");

booking read_booking(const sql::statement& st) {
  booking b;
  b.id = st.int64(0);
  b.user_id = st.int64(1);
  b.status = parse_status(st.text(3)).value_or(booking_status::booked);
  b.leave_reason = st.text(4);
  b.credit_refunded = st.int64(5) != 0;
  b.created_at = instant_of(st.int64(6));
  b.updated_at = instant_of(st.int64(7));
  b.cancelled_by = st.is_null(8) ? canceller::none : parse_canceller(st.text(8));
  b.via_waitlist = st.int64(9) != 0;
  b.sess = read_session_ref(st, 10, st.int64(2));
  return b;
}

waitlist_entry read_entry(const sql::statement& st) {
  waitlist_entry e;
  e.id = st.int64(0);
  e.session_id = st.int64(1);
  e.user_id = st.int64(2);
  e.status = parse_waitlist_status(st.text(3)).value_or(waitlist_status::waiting);
  e.joined_at = instant_of(st.int64(4));
  e.updated_at = instant_of(st.int64(5));
  if (!st.is_null(6))
    e.booking_id = st.int64(6);
  e.skip_reason = st.is_null(7) ? std::string{} : st.text(7);
  e.position = st.int32(8);
  e.sess = read_session_ref(st, 9, e.session_id);
  return e;
}

std::string q(const char* head, const char* columns, const char* tail) {
  return std::string(head) + columns + tail;
}

} // namespace

struct store::statements {
  explicit statements(sql::connection& c)
    : find_token(c, "SELECT user_id, role FROM api_tokens WHERE token_hash = ?1 AND revoked = 0"),
      find_user(c, "SELECT id, name, email, credits, leave_quota, active FROM users WHERE id = ?1"),
      user_bookings(c, q("SELECT ", page_booking_columns, " FROM bookings b JOIN sessions s ON s.id = b.session_id "
                                                     "WHERE b.user_id = ?1")
                         .c_str()),
      booking_by_id(c, q("SELECT ", booking_columns,
                         " FROM bookings b JOIN sessions s ON s.id = b.session_id WHERE b.id = ?1")
                         .c_str()),
      user_waiting(c, q("SELECT ", entry_columns, " FROM waitlist_entries w JOIN sessions s ON s.id = w.session_id "
                                                  "WHERE w.user_id = ?1 AND w.status = 'waiting' "
                                                  "ORDER BY s.starts_at, w.id")
                        .c_str()),
      entry_by_id(c, q("SELECT ", entry_columns,
                       " FROM waitlist_entries w JOIN sessions s ON s.id = w.session_id WHERE w.id = ?1")
                       .c_str()),
      locations(c, "SELECT id, name, address FROM locations ORDER BY id"),
      find_location(c, "SELECT id, name, address FROM locations WHERE id = ?1"),
      sessions_at(c, "SELECT s.id, " BOOKING_SESSION_COLUMNS ", "
                     "(SELECT count(*) FROM bookings b WHERE b.session_id = s.id AND b.status = 'booked'), "
                     "(SELECT count(*) FROM waitlist_entries w WHERE w.session_id = s.id AND w.status = 'waiting') "
                     "FROM sessions s WHERE s.location_id = ?1 AND s.starts_at >= ?2 AND s.starts_at < ?3 "
                     "ORDER BY s.starts_at, s.id"),
      find_session(c, "SELECT s.id, " BOOKING_SESSION_COLUMNS " FROM sessions s WHERE s.id = ?1"),
      holds_booked(c, "SELECT 1 FROM bookings WHERE user_id = ?1 AND session_id = ?2 AND status = 'booked'"),
      booked_count(c, "SELECT count(*) FROM bookings WHERE session_id = ?1 AND status = 'booked'"),
      insert_booking(c, "INSERT INTO bookings (user_id, session_id, status, credit_refunded, created_at, "
                        "updated_at) VALUES (?1, ?2, 'booked', 0, ?3, ?3)"),
      take_credit(c, "UPDATE users SET credits = credits - 1 WHERE id = ?1 AND credits >= 1"),
      give_credit(c, "UPDATE users SET credits = credits + 1 WHERE id = ?1"),
      take_leave(c, "UPDATE users SET leave_quota = leave_quota - 1, credits = credits + 1 "
                    "WHERE id = ?1 AND leave_quota >= 1"),
      set_cancelled(c, "UPDATE bookings SET status = 'cancelled', credit_refunded = ?2, updated_at = ?3, "
                       "cancelled_by = ?4 "
                       "WHERE id = ?1 AND status = 'booked'"),
      set_leave(c, "UPDATE bookings SET status = 'leave', credit_refunded = 1, leave_reason = ?2, updated_at = ?3 "
                   "WHERE id = ?1 AND status = 'booked'"),
      holds_waiting(c, "SELECT 1 FROM waitlist_entries WHERE user_id = ?1 AND session_id = ?2 AND status = 'waiting'"),
      waiting_count(c, "SELECT count(*) FROM waitlist_entries WHERE session_id = ?1 AND status = 'waiting'"),
      insert_entry(c, "INSERT INTO waitlist_entries (session_id, user_id, status, joined_at, updated_at) "
                      "VALUES (?1, ?2, 'waiting', ?3, ?3)"),
      set_withdrawn(c, "UPDATE waitlist_entries SET status = 'withdrawn', updated_at = ?2 "
                       "WHERE id = ?1 AND status = 'waiting'"),
      find_idem(c, "SELECT request_hash, status, body FROM idempotency_keys WHERE user_id = ?1 AND key = ?2"),
      insert_idem(c, "INSERT INTO idempotency_keys (user_id, key, request_hash, status, body, created_at) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
      purge_idem(c, "DELETE FROM idempotency_keys WHERE created_at < ?1") {
  }

  sql::statement find_token, find_user, user_bookings, booking_by_id, user_waiting, entry_by_id, locations,
    find_location, sessions_at, find_session, holds_booked, booked_count, insert_booking, take_credit, give_credit,
    take_leave, set_cancelled, set_leave, holds_waiting, waiting_count, insert_entry, set_withdrawn, find_idem,
    insert_idem, purge_idem;
};

void inject_store_delay(const store_options& opts) {
  if (opts.delay_ms > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(opts.delay_ms));
}

store::store(const store_options& opts)
  : conn_(std::make_unique<sql::connection>(opts.path, opts.busy_timeout_ms, opts.mmap_bytes,
                                            opts.wal_autocheckpoint_pages, opts.cache_kib)) {
  migrate(*conn_);
  st_ = std::make_unique<statements>(*conn_);
}

store::~store() = default;

sql::connection& store::connection() { return *conn_; }

std::optional<token_info> store::find_token(const std::string& token_hash) {
  auto& st = st_->find_token;
  sql::scoped_reset r{st};
  st.bind(1, token_hash);
  if (!st.step())
    return std::nullopt;
  return token_info{st.int64(0), st.text(1) == "admin" ? role::admin : role::member};
}

std::optional<user> store::find_user(id_type id) {
  auto& st = st_->find_user;
  sql::scoped_reset r{st};
  st.bind(1, id);
  if (!st.step())
    return std::nullopt;
  return user{st.int64(0), st.text(1), st.text(2), st.int32(3), st.int32(4), st.int64(5) != 0};
}

std::optional<user_snapshot> store::load_user(id_type id) {
  sql::transaction tx{*conn_, false}; // one snapshot for the user row and the bookings
  auto snap = read_user(id);
  tx.commit();
  return snap;
}

std::optional<user_snapshot> store::read_user(id_type id) {
  auto u = find_user(id);
  if (!u)
    return std::nullopt;
  user_snapshot snap;
  snap.u = std::move(*u);
  snap.u.email = std::string{}; // not on the page; the snapshot is cached for hours
  auto& st = st_->user_bookings;
  sql::scoped_reset r{st};
  st.bind(1, id);
  // Rows are read into a per-thread scratch vector, then moved into one exact-size allocation:
  // cached for a long time, so no growth slack, and no reallocation copies while reading.
  thread_local std::vector<booking> rows;
  rows.clear();
  while (st.step())
    rows.push_back(read_booking(st));
  // The page's order (starts_at, id), sorted here: SQLite's sorter (a temporary b-tree for a score of
  // rows) cost more than the sort (docs/BENCHMARKS.md).
  std::sort(rows.begin(), rows.end(), [](const booking& a, const booking& b) {
    auto sa = a.sess->starts_at, sb = b.sess->starts_at;
    return sa != sb ? sa < sb : a.id < b.id;
  });
  snap.bookings.assign(std::make_move_iterator(rows.begin()), std::make_move_iterator(rows.end()));
  auto& wt = st_->user_waiting;
  sql::scoped_reset rw{wt};
  wt.bind(1, id);
  while (wt.step())
    snap.waiting.push_back(read_entry(wt));
  snap.waiting.shrink_to_fit();
  return snap;
}

std::vector<location> store::locations() {
  std::vector<location> out;
  auto& st = st_->locations;
  sql::scoped_reset r{st};
  while (st.step())
    out.push_back(location{st.int64(0), st.text(1), st.text(2)});
  return out;
}

std::optional<location> store::find_location(id_type id) {
  auto& st = st_->find_location;
  sql::scoped_reset r{st};
  st.bind(1, id);
  if (!st.step())
    return std::nullopt;
  return location{st.int64(0), st.text(1), st.text(2)};
}

std::vector<session_view> store::sessions_at(id_type location_id, instant from, instant to) {
  std::vector<session_view> out;
  auto& st = st_->sessions_at;
  sql::scoped_reset r{st};
  st.bind(1, location_id).bind(2, from.time_since_epoch().count()).bind(3, to.time_since_epoch().count());
  while (st.step()) {
    session_view v;
    v.s.id = st.int64(0);
    read_session_at(st, 1, v.s);
    v.seats_left = v.s.status == session_status::cancelled ? 0 : std::max(0, v.s.capacity - st.int32(9));
    v.waitlist_length = st.int32(10);
    out.push_back(std::move(v));
  }
  return out;
}

std::optional<waitlist_entry> store::find_entry(id_type id) {
  auto& st = st_->entry_by_id;
  sql::scoped_reset r{st};
  st.bind(1, id);
  if (!st.step())
    return std::nullopt;
  return read_entry(st);
}

std::optional<session> store::session_by_id(id_type id) {
  auto& st = st_->find_session;
  sql::scoped_reset r{st};
  st.bind(1, id);
  if (!st.step())
    return std::nullopt;
  session s;
  s.id = st.int64(0);
  read_session_at(st, 1, s);
  return s;
}

std::optional<booking> store::booking_by_id(id_type id) {
  auto& st = st_->booking_by_id;
  sql::scoped_reset r{st};
  st.bind(1, id);
  if (!st.step())
    return std::nullopt;
  return read_booking(st);
}

write_result store::apply(id_type user_id, const write_command& cmd, instant now, const write_policy& policy) {
  auto secs = now.time_since_epoch().count();
  write_result res;
  auto u = find_user(user_id);
  if (cmd.kind == write_kind::join_waitlist)
    return apply_join(u, cmd.target, now, policy);
  if (cmd.kind == write_kind::withdraw)
    return apply_withdraw(u, cmd.target, now);
  if (cmd.kind == write_kind::book) {
    book_facts f;
    f.sess = session_by_id(cmd.target);
    if (f.sess) {
      auto& hb = st_->holds_booked;
      sql::scoped_reset r1{hb};
      hb.bind(1, user_id).bind(2, cmd.target);
      f.already_booked = hb.step();
      auto& bc = st_->booked_count;
      sql::scoped_reset r2{bc};
      bc.bind(1, cmd.target);
      f.booked_count = bc.step() ? bc.int32(0) : 0;
    }
    f.credits = u ? u->credits : 0;
    f.active = !u || u->active;
    if (!u)
      f.sess.reset();
    res.error = check_book(f, now);
    if (res.error != error_code::none)
      return res;
    st_->insert_booking.bind(1, user_id).bind(2, cmd.target).bind(3, secs).run();
    auto id = conn_->last_insert_id();
    st_->take_credit.bind(1, user_id).run();
    if (conn_->changes() != 1)
      throw sql::error("credit invariant violated", 1);
    record_credit_change(*conn_, user_id, -1, "booking", id, cmd.actor_for(user_id), now);
    res.b = booking_by_id(id);
    return res;
  }
  booking_facts f;
  auto b = booking_by_id(cmd.target);
  if (b && b->user_id == user_id && u) {
    f.exists_and_owned = true;
    f.status = b->status;
    f.starts_at = b->sess->starts_at;
    f.leave_quota = u->leave_quota;
  }
  if (cmd.kind == write_kind::cancel) {
    auto d = check_cancel(f, now, policy.cancel_window);
    res.error = d.error;
    if (res.error != error_code::none)
      return res;
    st_->set_cancelled.bind(1, cmd.target).bind(2, d.refund ? 1 : 0).bind(3, secs)
      .bind(4, std::string_view{cmd.actor_for(user_id) != user_id ? "admin" : "member"}).run();
    if (d.refund) {
      st_->give_credit.bind(1, user_id).run();
      record_credit_change(*conn_, user_id, 1, "refund", cmd.target, cmd.actor_for(user_id), now);
    }
  } else {
    res.error = check_leave(f, now);
    if (res.error != error_code::none)
      return res;
    auto& sl = st_->set_leave;
    sl.bind(1, cmd.target);
    if (cmd.reason.empty())
      sl.bind_null(2);
    else
      sl.bind(2, cmd.reason);
    sl.bind(3, secs).run();
    st_->take_leave.bind(1, user_id).run();
    if (conn_->changes() != 1)
      throw sql::error("leave quota invariant violated", 1);
    record_credit_change(*conn_, user_id, 1, "refund", cmd.target, cmd.actor_for(user_id), now);
  }
  promote_after(res, user_id, b->session_id(), now, policy); // the freed seat, in the same transaction
  res.b = booking_by_id(cmd.target);
  return res;
}

void store::promote_after(write_result& res, id_type writer, id_type session_id, instant now,
                          const write_policy& policy) {
  auto wall_ns = [] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
  };
  auto before = waiting_users(*conn_, session_id);
  if (before.empty())
    return;
  res.promotion_start_ns = wall_ns();
  res.promotion = promote_waitlist(*conn_, session_id, now, policy.waitlist_cutoff);
  res.promotion_end_ns = wall_ns();
  if (res.promotion.promoted + res.promotion.skipped == 0)
    return;
  // Promoted and skipped members lost their entry, the rest moved up: every one of them sees a change.
  for (auto id : before)
    if (id != writer)
      res.affected_users.push_back(id);
}

write_result store::apply_join(const std::optional<user>& u, id_type session_id, instant now,
                               const write_policy& policy) {
  write_result res;
  join_facts f;
  if (u)
    f.sess = session_by_id(session_id);
  if (f.sess) {
    auto& hb = st_->holds_booked;
    sql::scoped_reset r1{hb};
    hb.bind(1, u->id).bind(2, session_id);
    f.already_booked = hb.step();
    auto& hw = st_->holds_waiting;
    sql::scoped_reset r2{hw};
    hw.bind(1, u->id).bind(2, session_id);
    f.already_waitlisted = hw.step();
    auto& bc = st_->booked_count;
    sql::scoped_reset r3{bc};
    bc.bind(1, session_id);
    f.booked_count = bc.step() ? bc.int32(0) : 0;
    auto& wc = st_->waiting_count;
    sql::scoped_reset r4{wc};
    wc.bind(1, session_id);
    f.waiting_count = wc.step() ? wc.int32(0) : 0;
    f.credits = u->credits;
    f.active = u->active;
  }
  res.error = check_join(f, now, policy.waitlist_cutoff);
  if (res.error != error_code::none)
    return res;
  st_->insert_entry.bind(1, session_id).bind(2, u->id).bind(3, now.time_since_epoch().count()).run();
  res.entry = find_entry(conn_->last_insert_id()); // last in line: nobody else's position moves
  return res;
}

write_result store::apply_withdraw(const std::optional<user>& u, id_type entry_id, instant now) {
  write_result res;
  withdraw_facts f;
  auto e = find_entry(entry_id);
  if (e && u && e->user_id == u->id) {
    f.exists_and_owned = true;
    f.status = e->status;
  }
  res.error = check_withdraw(f);
  if (res.error != error_code::none)
    return res;
  auto before = waiting_users(*conn_, e->session_id);
  st_->set_withdrawn.bind(1, entry_id).bind(2, now.time_since_epoch().count()).run();
  if (conn_->changes() != 1)
    throw sql::error("waitlist entry changed under withdraw", 1);
  // Everyone behind moves up one place. (Over-inclusive for those ahead: an invalidation too many is harmless.)
  for (auto id : before)
    if (id != u->id)
      res.affected_users.push_back(id);
  res.entry = find_entry(entry_id);
  return res;
}

bool store::recorded(id_type user_id, const idempotency_request& idem, write_outcome& out) {
  auto& st = st_->find_idem;
  sql::scoped_reset r{st};
  st.bind(1, user_id).bind(2, idem.key);
  if (!st.step())
    return false;
  if (st.text(0) != idem.request_hash) {
    out.mismatch = true;
    out.result.error = error_code::idempotency_mismatch;
  } else {
    out.replayed = true;
    out.response = stored_response{st.int32(1), st.text(2)};
  }
  return true;
}

void store::remember(id_type user_id, const idempotency_request& idem, const stored_response& response, instant now) {
  st_->insert_idem.bind(1, user_id)
    .bind(2, idem.key)
    .bind(3, idem.request_hash)
    .bind(4, response.status)
    .bind(5, response.body)
    .bind(6, now.time_since_epoch().count())
    .run();
}

write_outcome store::write(id_type user_id, const write_command& cmd, instant now, const write_policy& policy,
                           const idempotency_request* idem,
                           const std::function<stored_response(const write_result&)>& respond,
                           const write_extras& extras) {
  write_outcome out;
  sql::transaction tx{*conn_, true};
  if (idem && recorded(user_id, *idem, out))
    return out; // nothing changed: the transaction rolls back
  out.result = apply(user_id, cmd, now, policy);
  if (cmd.actor && cmd.actor != user_id && out.result.error == error_code::none)
    audit_acting(user_id, cmd, out.result, now);
  if (respond)
    out.response = respond(out.result);
  if (idem && out.response.status < 500)
    remember(user_id, *idem, out.response, now);
  bool changed = out.result.error == error_code::none;
  if (changed && extras.snapshot)
    if (auto snap = read_user(user_id))
      out.snapshot = std::make_shared<const user_snapshot>(std::move(*snap));
  tx.commit();
  return out;
}

void store::audit_acting(id_type user_id, const write_command& cmd, const write_result& r, instant now) {
  // An admin acting for a member (`?user_id=`) is an admin write: one audit row, in the write's
  // transaction, like the admin routes' (SPEC §4).
  const char* action = "booking.create";
  const char* target_type = "booking";
  id_type target = r.b ? r.b->id : 0;
  switch (cmd.kind) {
    case write_kind::book: break;
    case write_kind::cancel: action = "booking.cancel"; break;
    case write_kind::leave: action = "booking.leave"; break;
    case write_kind::join_waitlist:
    case write_kind::withdraw:
      action = cmd.kind == write_kind::join_waitlist ? "waitlist.join" : "waitlist.withdraw";
      target_type = "waitlist_entry";
      target = r.entry ? r.entry->id : 0;
      break;
  }
  nlohmann::json detail{{"user_id", user_id}};
  if (r.b)
    detail["session_id"] = r.b->session_id();
  else if (r.entry)
    detail["session_id"] = r.entry->session_id;
  record_audit_event(*conn_, cmd.actor, action, target_type, target, detail.dump(), now);
}

write_result store::book(id_type user_id, id_type session_id, instant now) {
  return write(user_id, write_command{write_kind::book, session_id, {}}, now, write_policy{}, nullptr, {}).result;
}

write_result store::cancel(id_type user_id, id_type booking_id, instant now, std::chrono::seconds window,
                           std::chrono::seconds waitlist_cutoff) {
  return write(user_id, write_command{write_kind::cancel, booking_id, {}}, now, write_policy{window, waitlist_cutoff},
               nullptr, {})
    .result;
}

write_result store::leave(id_type user_id, id_type booking_id, const std::string& reason, instant now,
                          std::chrono::seconds waitlist_cutoff) {
  return write(user_id, write_command{write_kind::leave, booking_id, reason}, now,
               write_policy{std::chrono::hours{12}, waitlist_cutoff}, nullptr, {})
    .result;
}

write_result store::join_waitlist(id_type user_id, id_type session_id, instant now,
                                  std::chrono::seconds waitlist_cutoff) {
  return write(user_id, write_command{write_kind::join_waitlist, session_id, {}}, now,
               write_policy{std::chrono::hours{12}, waitlist_cutoff}, nullptr, {})
    .result;
}

write_result store::withdraw(id_type user_id, id_type entry_id, instant now) {
  return write(user_id, write_command{write_kind::withdraw, entry_id, {}}, now, write_policy{}, nullptr, {}).result;
}

write_outcome store::remember_response(id_type user_id, const idempotency_request& idem,
                                       const stored_response& response, instant now) {
  write_outcome out;
  sql::transaction tx{*conn_, true};
  if (recorded(user_id, idem, out))
    return out;
  out.response = response;
  remember(user_id, idem, response, now);
  tx.commit();
  return out;
}

int store::purge_idempotency(instant cutoff) {
  st_->purge_idem.bind(1, cutoff.time_since_epoch().count()).run();
  return conn_->changes();
}

} // namespace booking
