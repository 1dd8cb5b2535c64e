#include "model/admin_store.hpp"

#include <algorithm>
#include <limits>

#include <openssl/rand.h>

#include "model/ledger.hpp"
#include "model/token_hash.hpp"

namespace booking {

using nlohmann::json;

namespace {

std::int64_t secs(instant t) { return t.time_since_epoch().count(); }

json nullable(const sql::statement& st, int col) { return st.is_null(col) ? json(nullptr) : json(st.int64(col)); }

/// A refusal: nothing was written.
admin_result refused(error_code e, std::string problem = {}) {
  admin_result r;
  r.error = e;
  r.problem = std::move(problem);
  return r;
}

admin_result ok(int status, json body) {
  admin_result r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

void add_unique(std::vector<id_type>& to, const std::vector<id_type>& from) {
  for (auto id : from)
    if (std::find(to.begin(), to.end(), id) == to.end())
      to.push_back(id);
}

/// The users whose pages show a session: every booking on it, whatever its status (a cancelled or
/// leave booking stays on its member's page with the session's title, times and status), and every
/// `waiting` entry (the page's waitlist lists only those).
std::vector<id_type> users_on_session(sql::connection& c, id_type session_id) {
  sql::statement st{c, "SELECT user_id FROM bookings WHERE session_id = ?1 "
                       "UNION SELECT user_id FROM waitlist_entries WHERE session_id = ?1 AND status = 'waiting'"};
  st.bind(1, session_id);
  std::vector<id_type> out;
  while (st.step())
    out.push_back(st.int64(0));
  return out;
}

struct session_row {
  id_type id = 0;
  id_type location_id = 0;
  std::string title, coach, status;
  instant starts_at{}, ends_at{};
  int capacity = 1, waitlist_capacity = 0, booked = 0, waiting = 0;
};

std::optional<session_row> read_session(sql::connection& c, id_type id) {
  sql::statement st{c, "SELECT id, location_id, title, coach, starts_at, ends_at, capacity, waitlist_capacity, status, "
                       "(SELECT count(*) FROM bookings b WHERE b.session_id = s.id AND b.status = 'booked'), "
                       "(SELECT count(*) FROM waitlist_entries w WHERE w.session_id = s.id AND w.status = 'waiting') "
                       "FROM sessions s WHERE id = ?1"};
  st.bind(1, id);
  if (!st.step())
    return std::nullopt;
  session_row s;
  s.id = st.int64(0);
  s.location_id = st.int64(1);
  s.title = st.text(2);
  s.coach = st.text(3);
  s.starts_at = instant_of(st.int64(4));
  s.ends_at = instant_of(st.int64(5));
  s.capacity = st.int32(6);
  s.waitlist_capacity = st.int32(7);
  s.status = st.text(8);
  s.booked = st.int32(9);
  s.waiting = st.int32(10);
  return s;
}

json session_row_json(const session_row& s, const zone& tz) {
  bool cancelled = s.status == "cancelled";
  return json{{"id", s.id},
              {"location_id", s.location_id},
              {"title", s.title},
              {"coach", s.coach},
              {"starts_at", tz.format(s.starts_at)},
              {"ends_at", tz.format(s.ends_at)},
              {"capacity", s.capacity},
              {"waitlist_capacity", s.waitlist_capacity},
              {"status", s.status},
              {"booked", s.booked},
              {"seats_left", cancelled ? 0 : std::max(0, s.capacity - s.booked)},
              {"waitlist_length", s.waiting}};
}

std::optional<json> read_member(sql::connection& c, id_type id) {
  sql::statement st{c, "SELECT id, name, email, credits, leave_quota, active FROM users WHERE id = ?1"};
  st.bind(1, id);
  if (!st.step())
    return std::nullopt;
  return json{{"id", st.int64(0)},       {"name", st.text(1)},         {"email", st.text(2)},
              {"credits", st.int64(3)},  {"leave_quota", st.int64(4)}, {"active", st.int64(5) != 0}};
}

std::optional<location> read_location(sql::connection& c, id_type id) {
  sql::statement st{c, "SELECT id, name, address FROM locations WHERE id = ?1"};
  st.bind(1, id);
  if (!st.step())
    return std::nullopt;
  return location{st.int64(0), st.text(1), st.text(2)};
}

json location_object(const location& l) { return json{{"id", l.id}, {"name", l.name}, {"address", l.address}}; }

json ledger_entry(const sql::statement& st, const zone& tz) {
  return json{{"id", st.int64(0)},         {"delta", st.int64(1)},    {"balance_after", st.int64(2)},
              {"reason", st.text(3)},      {"booking_id", nullable(st, 4)}, {"actor_id", nullable(st, 5)},
              {"at", tz.format(instant_of(st.int64(6)))}};
}

constexpr const char* ledger_columns = "id, delta, balance_after, reason, booking_id, actor_user_id, created_at";

/// Inserts a token row (only the hash) and returns its id.
id_type insert_token(sql::connection& c, id_type user, const std::string& token, instant now,
                     const char* role = "member") {
  sql::statement st{c, "INSERT INTO api_tokens (token_hash, user_id, role, revoked, created_at) "
                       "VALUES (?1, ?2, ?4, 0, ?3)"};
  st.bind(1, sha256_hex(token)).bind(2, user).bind(3, secs(now)).bind(4, std::string_view{role}).run();
  return c.last_insert_id();
}

} // namespace

std::optional<issued_token> issue_admin_token(sql::connection& c, const std::string& email, instant now) {
  sql::transaction tx{c, true};
  sql::statement st{c, "SELECT id FROM users WHERE lower(email) = lower(?1) AND active = 1"};
  st.bind(1, email);
  if (!st.step())
    return std::nullopt;
  issued_token out;
  out.user_id = st.int64(0);
  st.reset();
  out.token = new_token();
  out.token_id = insert_token(c, out.user_id, out.token, now, "admin");
  record_audit_event(c, 0, "token.issue", "token", out.token_id,
                     json{{"user_id", out.user_id}, {"role", "admin"}, {"via", "booking-admin-token"}}.dump(), now);
  tx.commit();
  return out;
}

std::string new_token() {
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1)
    throw std::runtime_error("RAND_bytes failed");
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (auto b : raw) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(alphabet[(acc >> bits) & 63]);
    }
  }
  if (bits > 0)
    out.push_back(alphabet[(acc << (6 - bits)) & 63]);
  return out;
}

admin_store::admin_store(sql::connection& c, const zone& tz, promoter promote)
  : c_(c), tz_(tz), promote_(std::move(promote)) {}

admin_result admin_store::write(const admin_call& call, const std::function<admin_result()>& op) {
  sql::transaction tx{c_, true};
  if (call.idem) {
    sql::statement st{c_, "SELECT request_hash, status, body FROM idempotency_keys WHERE user_id = ?1 AND key = ?2"};
    st.bind(1, call.actor).bind(2, call.idem->key);
    if (st.step()) {
      admin_result r;
      if (st.text(0) != call.idem->request_hash) {
        r.mismatch = true;
        r.error = error_code::idempotency_mismatch;
      } else {
        r.replayed = true;
        r.response = stored_response{st.int32(1), st.text(2)};
      }
      return r; // nothing changed: the transaction rolls back
    }
  }
  auto r = op();
  if (call.respond) {
    r.response = call.respond(r);
    auto kept = r.response;
    if (r.error == error_code::none && r.body.is_object() && r.body.contains("token")) {
      // A token is shown once: the remembered response never holds it (only its hash is stored).
      auto copy = r;
      copy.body["token"] = nullptr;
      kept = call.respond(copy);
    }
    if (call.idem && kept.status < 500) {
      sql::statement ins{c_, "INSERT INTO idempotency_keys (user_id, key, request_hash, status, body, created_at) "
                             "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"};
      ins.bind(1, call.actor)
        .bind(2, call.idem->key)
        .bind(3, call.idem->request_hash)
        .bind(4, kept.status)
        .bind(5, kept.body)
        .bind(6, secs(call.now))
        .run();
    }
  }
  tx.commit();
  return r;
}

void admin_store::audit_row(const admin_call& call, const char* action, const char* target_type, id_type target_id,
                            const json& detail) {
  record_audit_event(c_, call.actor, action, target_type, target_id, detail.dump(), call.now);
}

promotion_fanout admin_store::promote(id_type session_id, instant now) {
  if (!promote_)
    return {};
  return promote_(c_, session_id, now);
}

json admin_store::session_json(id_type id) { return session_row_json(*read_session(c_, id), tz_); }

admin_result admin_store::reject(const admin_call& call, error_code e, const std::string& problem) {
  return write(call, [&] { return refused(e, problem); });
}

// ---- locations --------------------------------------------------------------------------------

admin_result admin_store::create_location(const admin_call& call, const std::string& name,
                                          const std::string& address) {
  return write(call, [&] {
    sql::statement st{c_, "INSERT INTO locations (name, address) VALUES (?1, ?2)"};
    st.bind(1, name).bind(2, address).run();
    location l{c_.last_insert_id(), name, address};
    audit_row(call, "location.create", "location", l.id, json{{"name", name}, {"address", address}});
    auto r = ok(201, location_object(l));
    r.locations_changed = true;
    return r;
  });
}

admin_result admin_store::edit_location(const admin_call& call, id_type id, const location_patch& p) {
  return write(call, [&] {
    auto before = read_location(c_, id);
    if (!before)
      return refused(error_code::not_found);
    auto after = *before;
    json changed = json::object();
    if (p.name && *p.name != before->name) {
      changed["name"] = {{"from", before->name}, {"to", *p.name}};
      after.name = *p.name;
    }
    if (p.address && *p.address != before->address) {
      changed["address"] = {{"from", before->address}, {"to", *p.address}};
      after.address = *p.address;
    }
    sql::statement st{c_, "UPDATE locations SET name = ?2, address = ?3 WHERE id = ?1"};
    st.bind(1, id).bind(2, after.name).bind(3, after.address).run();
    audit_row(call, "location.update", "location", id, json{{"changed", changed}});
    auto r = ok(200, location_object(after));
    r.locations_changed = !changed.empty();
    return r;
  });
}

// ---- sessions ---------------------------------------------------------------------------------

namespace {

/// Rules every new session obeys; empty when it may be created.
std::string session_problem(instant starts, instant ends, int capacity, int waitlist_capacity, instant now) {
  if (starts <= now)
    return "sessions are created in the future only";
  if (ends <= starts)
    return "ends_at must be after starts_at";
  if (capacity < 1)
    return "capacity must be at least 1";
  if (waitlist_capacity < 0)
    return "waitlist_capacity must not be negative";
  return {};
}

id_type insert_session(sql::connection& c, id_type location_id, const std::string& title, const std::string& coach,
                       instant starts, instant ends, int capacity, int waitlist_capacity) {
  sql::statement st{c, "INSERT INTO sessions (location_id, title, coach, starts_at, ends_at, capacity, "
                       "waitlist_capacity, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'scheduled')"};
  st.bind(1, location_id)
    .bind(2, title)
    .bind(3, coach)
    .bind(4, secs(starts))
    .bind(5, secs(ends))
    .bind(6, capacity)
    .bind(7, waitlist_capacity)
    .run();
  return c.last_insert_id();
}

} // namespace

admin_result admin_store::create_session(const admin_call& call, const session_input& in) {
  return write(call, [&] {
    auto problem = session_problem(in.starts_at, in.ends_at, in.capacity, in.waitlist_capacity, call.now);
    if (!problem.empty())
      return refused(error_code::invalid_request, problem);
    if (!read_location(c_, in.location_id))
      return refused(error_code::not_found);
    auto id = insert_session(c_, in.location_id, in.title, in.coach, in.starts_at, in.ends_at, in.capacity,
                             in.waitlist_capacity);
    auto body = session_json(id);
    audit_row(call, "session.create", "session", id, body);
    return ok(201, std::move(body));
  });
}

admin_result admin_store::create_schedule(const admin_call& call, const schedule_input& in) {
  return write(call, [&] {
    if (in.recurrence.from < tz_.today(call.now))
      return refused(error_code::invalid_request, "from must not be before today");
    auto e = expand_schedule(in.recurrence, tz_);
    if (!e.problem.empty())
      return refused(error_code::invalid_request, e.problem);
    for (auto& s : e.slots) {
      auto problem = session_problem(s.starts_at, s.ends_at, in.capacity, in.waitlist_capacity, call.now);
      if (!problem.empty())
        return refused(error_code::invalid_request, problem);
    }
    if (!read_location(c_, in.location_id))
      return refused(error_code::not_found);
    auto list = json::array();
    auto ids = json::array();
    for (auto& s : e.slots) {
      auto id = insert_session(c_, in.location_id, in.title, in.coach, s.starts_at, s.ends_at, in.capacity,
                               in.waitlist_capacity);
      list.push_back(session_json(id));
      ids.push_back(id);
    }
    auto days = json::array();
    for (int d : in.recurrence.weekdays)
      days.push_back(d);
    char hhmm[32];
    auto minutes = static_cast<int>(in.recurrence.start_time.count());
    std::snprintf(hhmm, sizeof hhmm, "%02d:%02d", minutes / 60, minutes % 60);
    audit_row(call, "schedule.create", "location", in.location_id,
              json{{"title", in.title},
                   {"coach", in.coach},
                   {"capacity", in.capacity},
                   {"waitlist_capacity", in.waitlist_capacity},
                   {"weekdays", days},
                   {"start_time", hhmm},
                   {"duration_minutes", in.recurrence.duration.count()},
                   {"from", format_date(in.recurrence.from)},
                   {"to", format_date(in.recurrence.to)},
                   {"time_zone", tz_.name()},
                   {"session_ids", ids}});
    return ok(201, json{{"sessions", std::move(list)}});
  });
}

admin_result admin_store::edit_session(const admin_call& call, id_type id, const session_patch& p) {
  return write(call, [&] {
    auto before = read_session(c_, id);
    if (!before)
      return refused(error_code::not_found);
    if (before->status == "cancelled" || before->starts_at <= call.now)
      return refused(error_code::session_closed);
    auto after = *before;
    json changed = json::object();
    auto note = [&changed](const char* field, const json& from, const json& to) {
      if (from != to)
        changed[field] = {{"from", from}, {"to", to}};
    };
    if (p.title) {
      note("title", before->title, *p.title);
      after.title = *p.title;
    }
    if (p.coach) {
      note("coach", before->coach, *p.coach);
      after.coach = *p.coach;
    }
    if (p.starts_at)
      after.starts_at = *p.starts_at;
    if (p.ends_at)
      after.ends_at = *p.ends_at;
    if (p.capacity)
      after.capacity = *p.capacity;
    if (p.waitlist_capacity)
      after.waitlist_capacity = *p.waitlist_capacity;
    if (p.starts_at && after.starts_at != before->starts_at && after.starts_at <= call.now)
      return refused(error_code::invalid_request, "starts_at must be in the future");
    if (after.ends_at <= after.starts_at)
      return refused(error_code::invalid_request, "ends_at must be after starts_at");
    if (after.capacity < 1 || after.waitlist_capacity < 0)
      return refused(error_code::invalid_request, "capacity must be at least 1");
    if (after.capacity < before->booked)
      return refused(error_code::capacity_below_booked);
    note("starts_at", tz_.format(before->starts_at), tz_.format(after.starts_at));
    note("ends_at", tz_.format(before->ends_at), tz_.format(after.ends_at));
    note("capacity", before->capacity, after.capacity);
    note("waitlist_capacity", before->waitlist_capacity, after.waitlist_capacity);

    auto r = ok(200, json{});
    r.affected_users = users_on_session(c_, id); // before promotion: every member who sees the session
    sql::statement st{c_, "UPDATE sessions SET title = ?2, coach = ?3, starts_at = ?4, ends_at = ?5, capacity = ?6, "
                          "waitlist_capacity = ?7 WHERE id = ?1"};
    st.bind(1, id)
      .bind(2, after.title)
      .bind(3, after.coach)
      .bind(4, secs(after.starts_at))
      .bind(5, secs(after.ends_at))
      .bind(6, after.capacity)
      .bind(7, after.waitlist_capacity)
      .run();
    json detail{{"changed", changed}};
    if (after.capacity > before->capacity) {
      auto f = promote(id, call.now);
      r.promoted_users = f.promoted;
      add_unique(r.affected_users, r.promoted_users);
      add_unique(r.affected_users, f.affected);
      detail["promoted_users"] = r.promoted_users;
    }
    audit_row(call, "session.update", "session", id, detail);
    r.body = session_json(id);
    return r;
  });
}

admin_result admin_store::cancel_session(const admin_call& call, id_type id, const std::string& reason) {
  return write(call, [&] {
    auto s = read_session(c_, id);
    if (!s)
      return refused(error_code::not_found);
    if (s->status == "cancelled") { // again: 200, nothing changes
      audit_row(call, "session.cancel", "session", id, json{{"unchanged", true}});
      return ok(200, session_row_json(*s, tz_));
    }
    if (s->starts_at <= call.now)
      return refused(error_code::session_closed);
    auto r = ok(200, json{});
    r.affected_users = users_on_session(c_, id);

    std::vector<std::pair<id_type, id_type>> booked; // booking id, user id
    {
      sql::statement st{c_, "SELECT id, user_id FROM bookings WHERE session_id = ?1 AND status = 'booked' ORDER BY id"};
      st.bind(1, id);
      while (st.step())
        booked.emplace_back(st.int64(0), st.int64(1));
    }
    sql::statement cancel{c_, "UPDATE bookings SET status = 'cancelled', cancelled_by = 'studio', credit_refunded = 1, "
                              "updated_at = ?2 WHERE id = ?1 AND status = 'booked'"};
    sql::statement refund{c_, "UPDATE users SET credits = credits + 1 WHERE id = ?1"};
    for (auto [booking_id, user] : booked) {
      cancel.bind(1, booking_id).bind(2, secs(call.now)).run();
      refund.bind(1, user).run();
      record_credit_change(c_, user, 1, "studio_cancel", booking_id, call.actor, call.now);
    }
    sql::statement waiting{c_, "UPDATE waitlist_entries SET status = 'cancelled', updated_at = ?2 "
                               "WHERE session_id = ?1 AND status = 'waiting'"};
    waiting.bind(1, id).bind(2, secs(call.now)).run();
    auto entries = c_.changes();
    sql::statement st{c_, "UPDATE sessions SET status = 'cancelled' WHERE id = ?1"};
    st.bind(1, id).run();
    json detail{{"refunded_bookings", static_cast<std::int64_t>(booked.size())}, {"waitlist_cancelled", entries}};
    if (!reason.empty())
      detail["reason"] = reason;
    audit_row(call, "session.cancel", "session", id, detail);
    r.body = session_json(id);
    return r;
  });
}

admin_result admin_store::session_waitlist(id_type id) {
  sql::transaction tx{c_, false};
  if (!read_session(c_, id))
    return refused(error_code::not_found);
  sql::statement st{c_, "SELECT id, user_id, joined_at FROM waitlist_entries WHERE session_id = ?1 AND "
                        "status = 'waiting' ORDER BY joined_at, id"};
  st.bind(1, id);
  auto list = json::array();
  int position = 0;
  while (st.step())
    list.push_back(json{{"id", st.int64(0)},
                        {"user_id", st.int64(1)},
                        {"status", "waiting"},
                        {"position", ++position},
                        {"joined_at", tz_.format(instant_of(st.int64(2)))}});
  tx.commit();
  return ok(200, json{{"session_id", id}, {"entries", std::move(list)}});
}

// ---- members and tokens -----------------------------------------------------------------------

admin_result admin_store::create_member(const admin_call& call, const member_input& in) {
  return write(call, [&] {
    if (in.credits < 0 || in.leave_quota < 0)
      return refused(error_code::invalid_request, "credits and leave_quota must not be negative");
    {
      // Addresses are compared without regard to ASCII case: one person, one account.
      sql::statement st{c_, "SELECT 1 FROM users WHERE lower(email) = lower(?1)"};
      st.bind(1, in.email);
      if (st.step())
        return refused(error_code::email_taken);
    }
    sql::statement ins{c_, "INSERT INTO users (name, email, credits, leave_quota, active) VALUES (?1, ?2, ?3, ?4, 1)"};
    ins.bind(1, in.name).bind(2, in.email).bind(3, in.credits).bind(4, in.leave_quota).run();
    auto id = c_.last_insert_id();
    // The opening row makes credits = sum(delta) from this commit on, also for 0 credits.
    record_credit_change(c_, id, in.credits, "opening", std::nullopt, call.actor, call.now);
    auto token = new_token();
    auto token_id = insert_token(c_, id, token, call.now);
    audit_row(call, "member.create", "user", id,
              json{{"name", in.name}, {"credits", in.credits}, {"leave_quota", in.leave_quota},
                   {"token_id", token_id}});
    auto r = ok(201, json{{"member", *read_member(c_, id)}, {"token_id", token_id}, {"token", token}});
    r.affected_users = {id};
    return r;
  });
}

admin_result admin_store::member(id_type id) {
  auto m = read_member(c_, id);
  if (!m)
    return refused(error_code::not_found);
  return ok(200, *m);
}

admin_result admin_store::deactivate_member(const admin_call& call, id_type id) {
  return write(call, [&] {
    auto m = read_member(c_, id);
    if (!m)
      return refused(error_code::not_found);
    auto r = ok(200, json{});
    r.affected_users = {id};
    if (!(*m)["active"].get<bool>()) { // again: 200, nothing changes
      audit_row(call, "member.deactivate", "user", id, json{{"unchanged", true}});
      r.body = *m;
      return r;
    }
    {
      sql::statement st{c_, "SELECT token_hash FROM api_tokens WHERE user_id = ?1 AND revoked = 0"};
      st.bind(1, id);
      while (st.step())
        r.revoked_token_hashes.push_back(st.text(0));
    }
    sql::statement revoke{c_, "UPDATE api_tokens SET revoked = 1 WHERE user_id = ?1 AND revoked = 0"};
    revoke.bind(1, id).run();
    sql::statement off{c_, "UPDATE users SET active = 0 WHERE id = ?1"};
    off.bind(1, id).run();

    std::vector<std::pair<id_type, id_type>> upcoming; // booking id, session id
    {
      sql::statement st{c_, "SELECT b.id, b.session_id FROM bookings b JOIN sessions s ON s.id = b.session_id "
                            "WHERE b.user_id = ?1 AND b.status = 'booked' AND s.starts_at > ?2 ORDER BY s.starts_at, b.id"};
      st.bind(1, id).bind(2, secs(call.now));
      while (st.step())
        upcoming.emplace_back(st.int64(0), st.int64(1));
    }
    sql::statement cancel{c_, "UPDATE bookings SET status = 'cancelled', cancelled_by = 'admin', credit_refunded = 1, "
                              "updated_at = ?2 WHERE id = ?1 AND status = 'booked'"};
    sql::statement refund{c_, "UPDATE users SET credits = credits + 1 WHERE id = ?1"};
    for (auto [booking_id, session_id] : upcoming) {
      (void)session_id;
      cancel.bind(1, booking_id).bind(2, secs(call.now)).run();
      refund.bind(1, id).run();
      record_credit_change(c_, id, 1, "refund", booking_id, call.actor, call.now);
    }
    // Members waiting on the sessions this changes see their positions move (or a promotion).
    {
      sql::statement st{c_, "SELECT DISTINCT w2.user_id FROM waitlist_entries w JOIN waitlist_entries w2 "
                            "ON w2.session_id = w.session_id AND w2.status = 'waiting' "
                            "WHERE w.user_id = ?1 AND w.status = 'waiting'"};
      st.bind(1, id);
      std::vector<id_type> moved;
      while (st.step())
        moved.push_back(st.int64(0));
      add_unique(r.affected_users, moved);
    }
    for (auto [booking_id, session_id] : upcoming) {
      (void)booking_id;
      add_unique(r.affected_users, users_on_session(c_, session_id));
    }
    sql::statement withdraw{c_, "UPDATE waitlist_entries SET status = 'withdrawn', updated_at = ?2 "
                                "WHERE user_id = ?1 AND status = 'waiting'"};
    withdraw.bind(1, id).bind(2, secs(call.now)).run();
    auto withdrawn = c_.changes();
    // Seats freed: promotion runs per session, after the member left every waitlist.
    for (auto [booking_id, session_id] : upcoming) {
      (void)booking_id;
      auto f = promote(session_id, call.now);
      add_unique(r.promoted_users, f.promoted);
      add_unique(r.affected_users, f.affected);
    }
    add_unique(r.affected_users, r.promoted_users);
    json detail{{"tokens_revoked", static_cast<std::int64_t>(r.revoked_token_hashes.size())},
                {"bookings_cancelled", static_cast<std::int64_t>(upcoming.size())},
                {"waitlist_withdrawn", withdrawn},
                {"promoted_users", r.promoted_users}};
    audit_row(call, "member.deactivate", "user", id, detail);
    r.body = *read_member(c_, id);
    return r;
  });
}

admin_result admin_store::issue_token(const admin_call& call, id_type member_id) {
  return write(call, [&] {
    auto m = read_member(c_, member_id);
    if (!m)
      return refused(error_code::not_found);
    if (!(*m)["active"].get<bool>())
      return refused(error_code::invalid_request, "the member is deactivated");
    auto token = new_token();
    auto token_id = insert_token(c_, member_id, token, call.now);
    audit_row(call, "token.issue", "token", token_id, json{{"user_id", member_id}, {"role", "member"}});
    return ok(201, json{{"token_id", token_id}, {"user_id", member_id}, {"token", token}});
  });
}

admin_result admin_store::revoke_token(const admin_call& call, id_type token_id) {
  return write(call, [&] {
    sql::statement st{c_, "SELECT token_hash, user_id, revoked FROM api_tokens WHERE id = ?1"};
    st.bind(1, token_id);
    if (!st.step())
      return refused(error_code::not_found);
    auto hash = st.text(0);
    auto user = st.int64(1);
    bool already = st.int64(2) != 0;
    st.reset();
    auto r = ok(200, json{{"token_id", token_id}, {"user_id", user}, {"revoked", true}});
    if (already) {
      audit_row(call, "token.revoke", "token", token_id, json{{"user_id", user}, {"unchanged", true}});
      return r;
    }
    sql::statement up{c_, "UPDATE api_tokens SET revoked = 1 WHERE id = ?1"};
    up.bind(1, token_id).run();
    r.revoked_token_hashes.push_back(hash);
    audit_row(call, "token.revoke", "token", token_id, json{{"user_id", user}});
    return r;
  });
}

// ---- credits, ledger, audit -------------------------------------------------------------------

admin_result admin_store::change_credits(const admin_call& call, id_type member_id, int delta,
                                         const std::string& reason) {
  return write(call, [&] {
    if (delta == 0 || delta > 1000 || delta < -1000)
      return refused(error_code::invalid_request, "delta must be non-zero and at most 1000 either way");
    std::int64_t credits = 0;
    {
      sql::statement st{c_, "SELECT credits FROM users WHERE id = ?1"};
      st.bind(1, member_id);
      if (!st.step())
        return refused(error_code::not_found);
      credits = st.int64(0);
    }
    if (credits + delta < 0)
      return refused(error_code::insufficient_credits);
    sql::statement up{c_, "UPDATE users SET credits = credits + ?2 WHERE id = ?1"};
    up.bind(1, member_id).bind(2, delta).run();
    const char* kind = delta > 0 ? "grant" : "adjustment";
    auto entry_id = record_credit_change(c_, member_id, delta, kind, std::nullopt, call.actor, call.now);
    sql::statement st{c_, (std::string("SELECT ") + ledger_columns + " FROM credit_ledger WHERE id = ?1").c_str()};
    st.bind(1, entry_id);
    st.step();
    auto entry = ledger_entry(st, tz_);
    st.reset();
    audit_row(call, delta > 0 ? "credits.grant" : "credits.adjust", "user", member_id,
              json{{"delta", delta}, {"reason", reason}, {"balance_after", entry["balance_after"]},
                   {"ledger_id", entry_id}});
    auto r = ok(200, json{{"balance", entry["balance_after"]}, {"entry", entry}});
    r.affected_users = {member_id};
    return r;
  });
}

admin_result admin_store::ledger(id_type member_id, int limit, std::optional<id_type> before) {
  sql::transaction tx{c_, false};
  if (!read_member(c_, member_id))
    return refused(error_code::not_found);
  sql::statement st{c_, (std::string("SELECT ") + ledger_columns
                         + " FROM credit_ledger WHERE user_id = ?1 AND id < ?3 ORDER BY id DESC LIMIT ?2")
                          .c_str()};
  st.bind(1, member_id).bind(2, limit).bind(3, before.value_or(std::numeric_limits<id_type>::max()));
  auto list = json::array();
  while (st.step())
    list.push_back(ledger_entry(st, tz_));
  tx.commit();
  return ok(200, json{{"entries", std::move(list)}});
}

admin_result admin_store::audit(int limit, std::optional<id_type> before) {
  sql::statement st{c_, "SELECT id, created_at, actor_user_id, action, target_type, target_id, detail "
                        "FROM audit_events WHERE id < ?2 ORDER BY id DESC LIMIT ?1"};
  st.bind(1, limit).bind(2, before.value_or(std::numeric_limits<id_type>::max()));
  auto list = json::array();
  while (st.step()) {
    auto detail = json::parse(st.text(6), nullptr, false);
    list.push_back(json{{"id", st.int64(0)},
                        {"at", tz_.format(instant_of(st.int64(1)))},
                        {"actor_id", nullable(st, 2)},
                        {"action", st.text(3)},
                        {"target_type", st.text(4)},
                        {"target_id", nullable(st, 5)},
                        {"detail", detail.is_discarded() ? json::object() : detail}});
  }
  return ok(200, json{{"events", std::move(list)}});
}

} // namespace booking
