// Studio administration routes (SPEC §4 "Studio administration") under `/{lang}/v2/admin/`.
// Admin tokens only. Input is validated here (types, lengths, ranges, ids, instants); the rules and
// the audit trail live in model/admin_store. After a committed write and before its 2xx leaves, the
// caches learn of it: every affected member's page (write epoch + cleanup), the token cache (revoked
// tokens), and the location list (changed locations).
#include <cstdio>
#include <set>

#include "http/errors.hpp"
#include "http/guard.hpp"
#include "http/idempotency.hpp"
#include "http/middleware.hpp"
#include "http/principal.hpp"
#include "model/admin_store.hpp"
#include "model/json.hpp"
#include "telemetry/log.hpp"

namespace booking {

namespace {

using nlohmann::json;

constexpr std::size_t max_name_chars = 200;
constexpr std::size_t max_reason_chars = 500;
constexpr int max_capacity = 10000;
constexpr int max_waitlist_capacity = 1000;
constexpr int max_credit_delta = 1000;
constexpr int max_member_credits = 100000;
constexpr int max_limit = 1000;
constexpr int default_limit = 50;

/// Code points of valid UTF-8 (nlohmann has already rejected invalid UTF-8).
std::size_t code_points(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char ch : s)
    if ((ch & 0xC0) != 0x80)
      ++n;
  return n;
}

/// A non-blank text of 1..max code points without control characters.
bool good_text(const json& v, std::size_t max) {
  if (!v.is_string())
    return false;
  const auto& s = v.get_ref<const std::string&>();
  bool blank = true;
  for (unsigned char ch : s) {
    if (ch < 0x20 || ch == 0x7F)
      return false;
    if (ch != ' ')
      blank = false;
  }
  return !blank && code_points(s) <= max;
}

std::optional<int> int_in(const json& v, int lo, int hi) {
  if (!v.is_number_integer())
    return std::nullopt;
  auto n = v.get<std::int64_t>();
  if (n < lo || n > hi)
    return std::nullopt;
  return static_cast<int>(n);
}

/// RFC 3339 date-time with an offset (`Z` or ±HH:MM), optional fraction (dropped).
std::optional<instant> parse_instant(const json& v) {
  if (!v.is_string())
    return std::nullopt;
  const auto& s = v.get_ref<const std::string&>();
  if (s.size() < 20 || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  auto day = parse_date(std::string_view{s}.substr(0, 10));
  auto hm = parse_hhmm(std::string_view{s}.substr(11, 5));
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (!day || !hm || !digit(s[17]) || !digit(s[18]))
    return std::nullopt;
  int sec = (s[17] - '0') * 10 + (s[18] - '0');
  if (sec > 59)
    return std::nullopt;
  std::size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    ++i;
    auto start = i;
    while (i < s.size() && digit(s[i]))
      ++i;
    if (i == start || i - start > 9)
      return std::nullopt;
  }
  std::chrono::seconds offset{0};
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    auto off = parse_hhmm(std::string_view{s}.substr(i + 1, 5));
    if (!off)
      return std::nullopt;
    offset = s[i] == '+' ? std::chrono::seconds{*off} : -std::chrono::seconds{*off};
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size())
    return std::nullopt;
  auto local = instant{day->time_since_epoch()} + *hm + std::chrono::seconds{sec};
  auto at = local - offset;
  // Shown in any zone (offsets up to ±14 h) it must stay a four-digit year: 0001-01-02 to
  // 9999-12-30 UTC (`9999-12-31T23:00:00-14:00` would be year 10000).
  using namespace date;
  if (at < instant{sys_days{year{1} / January / 2}.time_since_epoch()} ||
      at >= instant{sys_days{year{9999} / December / 31}.time_since_epoch()})
    return std::nullopt;
  return at;
}

bool good_email(const json& v) {
  if (!v.is_string())
    return false;
  const auto& s = v.get_ref<const std::string&>();
  if (s.empty() || s.size() > 254)
    return false;
  auto at = s.find('@');
  if (at == std::string::npos || at == 0 || at > 64 || s.find('@', at + 1) != std::string::npos)
    return false;
  auto domain = std::string_view{s}.substr(at + 1);
  if (domain.empty() || domain.find('.') == std::string_view::npos || domain.front() == '.' || domain.back() == '.'
      || domain.find("..") != std::string_view::npos)
    return false;
  for (unsigned char ch : s)
    if (ch <= 0x20 || ch == 0x7F || ch == '<' || ch == '>' || ch == ',' || ch == ';' || ch == '"' || ch == '\\')
      return false;
  return true;
}

/// Rejects keys the route does not know: a typo must not silently change nothing.
bool only_keys(const json& body, std::initializer_list<const char*> known) {
  for (auto it = body.begin(); it != body.end(); ++it) {
    bool ok = false;
    for (auto k : known)
      ok = ok || it.key() == k;
    if (!ok)
      return false;
  }
  return true;
}

/// The id of the route's first `{id}`, or nullopt.
std::optional<id_type> path_id(const call& c) { return parse_id(c.params[0]); }

/// Authenticates an admin token: 401 without a valid one, 403 for a member's, 429 over the rate;
/// `?user_id=` naming a missing user is a 404 as on every route (admin routes act as the admin).
std::optional<principal_info> admin_principal(route_context& ctx, call& c) {
  auto who = authenticate(ctx, c);
  if (!who)
    return std::nullopt;
  if (who->r != role::admin) {
    send_error(c.res, error_code::forbidden, c.language);
    return std::nullopt;
  }
  return who;
}

/// What a route parsed from its request: the write to run, or why the request is invalid.
using admin_op = std::function<admin_result(admin_store&, const admin_call&)>;

admin_op invalid(std::string problem) {
  return [problem](admin_store& a, const admin_call& call) { return a.reject(call, error_code::invalid_request, problem); };
}

/// Runs one admin write: idempotency, the store transaction, then the cache fan-out before the reply.
void run_write(route_context& ctx, call& c, const principal_info& who, const char* operation, const admin_op& op) {
  auto idem = idempotency_of(c.req, who.caller);
  if (idem.invalid)
    return send_error(c.res, error_code::invalid_request, c.language);
  auto& tz = ctx.actors.core().tz();
  auto l = c.language;
  admin_call call;
  call.actor = who.caller;
  call.now = now_seconds();
  call.idem = idem.request ? &*idem.request : nullptr;
  call.respond = [l](const admin_result& r) -> stored_response {
    if (r.error != error_code::none)
      return {status_of(r.error), error_body(r.error, l)};
    return {r.status, r.body.dump()};
  };
  auto out = traced_store_call(ctx, c, operation, [&] {
    auto db = ctx.stores.borrow();
    admin_store a{db->connection(), tz, ctx.promote};
    return op(a, call);
  });
  if (out.mismatch)
    return send_error(c.res, error_code::idempotency_mismatch, c.language);
  if (!out.replayed && out.error == error_code::none) {
    // Before the 2xx: every later request on any thread sees the change (SPEC §4, §5.9).
    if (!out.revoked_token_hashes.empty())
      ctx.auth.forget(out.revoked_token_hashes);
    for (auto user : out.affected_users)
      ctx.actors.core().after_write(user, &c.trace);
    if (out.locations_changed && ctx.actors.refresh_locations().error != error_code::none)
      log_warn("location refresh after an admin write timed out");
  }
  send_json(c.res, out.response.status, out.response.body);
  if (out.replayed)
    c.res.set_header("Idempotent-Replayed", "true");
}

/// A read: no transaction of ours, no audit row.
void run_read(route_context& ctx, call& c, const char* operation,
              const std::function<admin_result(admin_store&)>& read) {
  auto& tz = ctx.actors.core().tz();
  auto out = traced_store_call(ctx, c, operation, [&] {
    auto db = ctx.stores.borrow();
    admin_store a{db->connection(), tz};
    return read(a);
  });
  if (out.error != error_code::none)
    return send_error(c.res, out.error, c.language);
  send_json(c.res, out.status, out.body.dump());
}

/// A list's page: `?limit=N` (1..1000, default 50) and `?before=ID` (an id, as in a path: the list
/// goes on below the last id the caller read).
struct listing {
  int limit = default_limit;
  std::optional<id_type> before;
};

/// The listing a request asks for, or nullopt after a 400 (a parameter given twice is malformed).
std::optional<listing> listing_of(call& c) {
  listing out;
  auto one = [&](const char* name, std::optional<id_type>& into) {
    if (!c.req.has_param(name))
      return true;
    into = query_id(c.req, name);
    return into.has_value();
  };
  std::optional<id_type> limit;
  if (!one("limit", limit) || (limit && *limit > max_limit) || !one("before", out.before)) {
    send_error(c.res, error_code::invalid_request, c.language);
    return std::nullopt;
  }
  if (limit)
    out.limit = static_cast<int>(*limit);
  return out;
}

/// The common prefix of every admin route: language, admin token, and for writes the JSON body.
struct prelude {
  principal_info who;
  json body;
};

std::optional<prelude> begin(route_context& ctx, call& c, bool with_body) {
  auto who = admin_principal(ctx, c);
  if (!who)
    return std::nullopt;
  prelude p{*who, json::object()};
  if (with_body) {
    auto b = body_object(c);
    if (!b)
      return std::nullopt;
    p.body = std::move(*b);
  }
  return p;
}

// ---- routes -----------------------------------------------------------------------------------

admin_op location_create(const json& b) {
  if (!only_keys(b, {"name", "address"}) || !b.contains("name") || !b.contains("address")
      || !good_text(b["name"], max_name_chars) || !good_text(b["address"], max_name_chars))
    return invalid("name and address are required texts of 1 to 200 characters");
  auto name = b["name"].get<std::string>(), address = b["address"].get<std::string>();
  return [name, address](admin_store& a, const admin_call& call) { return a.create_location(call, name, address); };
}

admin_op location_edit(const call& c, const json& b) {
  auto id = path_id(c);
  if (!id)
    return invalid("bad location id");
  if (!only_keys(b, {"name", "address"}))
    return invalid("only name and address can be changed");
  location_patch p;
  for (const char* k : {"name", "address"})
    if (b.contains(k)) {
      if (!good_text(b[k], max_name_chars))
        return invalid("name and address are texts of 1 to 200 characters");
      (k[0] == 'n' ? p.name : p.address) = b[k].get<std::string>();
    }
  return [id = *id, p](admin_store& a, const admin_call& call) { return a.edit_location(call, id, p); };
}

/// title, coach, capacity, waitlist_capacity? shared by sessions and schedules.
std::string session_fields(const json& b, std::string& title, std::string& coach, int& capacity, int& waitlist) {
  for (const char* k : {"location_id", "title", "coach", "capacity"})
    if (!b.contains(k))
      return std::string(k) + " is required";
  if (!good_text(b["title"], max_name_chars) || !good_text(b["coach"], max_name_chars))
    return "title and coach are texts of 1 to 200 characters";
  auto cap = int_in(b["capacity"], 1, max_capacity);
  if (!cap)
    return "capacity must be an integer from 1 to 10000";
  capacity = *cap;
  if (b.contains("waitlist_capacity") && !b["waitlist_capacity"].is_null()) {
    auto w = int_in(b["waitlist_capacity"], 0, max_waitlist_capacity);
    if (!w)
      return "waitlist_capacity must be an integer from 0 to 1000";
    waitlist = *w;
  }
  title = b["title"].get<std::string>();
  coach = b["coach"].get<std::string>();
  return {};
}

admin_op session_create(const json& b) {
  if (!only_keys(b, {"location_id", "title", "coach", "starts_at", "ends_at", "capacity", "waitlist_capacity"}))
    return invalid("unknown field");
  session_input in;
  auto problem = session_fields(b, in.title, in.coach, in.capacity, in.waitlist_capacity);
  if (!problem.empty())
    return invalid(problem);
  auto loc = body_id(b["location_id"]);
  auto starts = b.contains("starts_at") ? parse_instant(b["starts_at"]) : std::nullopt;
  auto ends = b.contains("ends_at") ? parse_instant(b["ends_at"]) : std::nullopt;
  if (!loc)
    return invalid("location_id must be a positive integer");
  if (!starts || !ends)
    return invalid("starts_at and ends_at are RFC 3339 instants with an offset");
  if (*ends <= *starts)
    return invalid("ends_at must be after starts_at");
  if (*ends - *starts > std::chrono::hours{24})
    return invalid("a session lasts at most 24 hours");
  in.location_id = *loc;
  in.starts_at = *starts;
  in.ends_at = *ends;
  return [in](admin_store& a, const admin_call& call) { return a.create_session(call, in); };
}

admin_op schedule_create(const json& b) {
  if (!only_keys(b, {"location_id", "title", "coach", "capacity", "waitlist_capacity", "weekdays", "start_time",
                     "duration_minutes", "from", "to"}))
    return invalid("unknown field");
  schedule_input in;
  auto problem = session_fields(b, in.title, in.coach, in.capacity, in.waitlist_capacity);
  if (!problem.empty())
    return invalid(problem);
  auto loc = body_id(b["location_id"]);
  if (!loc)
    return invalid("location_id must be a positive integer");
  in.location_id = *loc;
  for (const char* k : {"weekdays", "start_time", "duration_minutes", "from", "to"})
    if (!b.contains(k))
      return invalid(std::string(k) + " is required");
  if (!b["weekdays"].is_array() || b["weekdays"].empty() || b["weekdays"].size() > 7)
    return invalid("weekdays is an array of ISO weekday numbers");
  for (const auto& d : b["weekdays"]) {
    auto n = int_in(d, 1, 7);
    if (!n)
      return invalid("weekdays are ISO numbers 1 to 7");
    in.recurrence.weekdays.push_back(*n);
  }
  auto start = b["start_time"].is_string() ? parse_hhmm(b["start_time"].get<std::string>()) : std::nullopt;
  auto minutes = int_in(b["duration_minutes"], 1, max_session_minutes);
  auto from = b["from"].is_string() ? parse_date(b["from"].get<std::string>()) : std::nullopt;
  auto to = b["to"].is_string() ? parse_date(b["to"].get<std::string>()) : std::nullopt;
  if (!start)
    return invalid("start_time is local HH:MM");
  if (!minutes)
    return invalid("duration_minutes must be an integer from 1 to 1440");
  if (!from || !to)
    return invalid("from and to are dates written YYYY-MM-DD");
  // Its sessions' instants stay within the bounds of `parse_instant`: a class starting on the last day
  // and lasting a day ends before 9999-12-31 UTC in any zone.
  if (*to > local_date{date::sys_days{date::year{9999} / date::December / 28}.time_since_epoch()})
    return invalid("to must be at most 9999-12-28");
  in.recurrence.start_time = *start;
  in.recurrence.duration = std::chrono::minutes{*minutes};
  in.recurrence.from = *from;
  in.recurrence.to = *to;
  return [in](admin_store& a, const admin_call& call) { return a.create_schedule(call, in); };
}

admin_op session_edit(const call& c, const json& b) {
  auto id = path_id(c);
  if (!id)
    return invalid("bad session id");
  if (!only_keys(b, {"title", "coach", "capacity", "waitlist_capacity", "starts_at", "ends_at"}))
    return invalid("unknown field");
  session_patch p;
  for (const char* k : {"title", "coach"})
    if (b.contains(k)) {
      if (!good_text(b[k], max_name_chars))
        return invalid("title and coach are texts of 1 to 200 characters");
      (k[0] == 't' ? p.title : p.coach) = b[k].get<std::string>();
    }
  if (b.contains("capacity") && !(p.capacity = int_in(b["capacity"], 1, max_capacity)))
    return invalid("capacity must be an integer from 1 to 10000");
  if (b.contains("waitlist_capacity") && !(p.waitlist_capacity = int_in(b["waitlist_capacity"], 0, max_waitlist_capacity)))
    return invalid("waitlist_capacity must be an integer from 0 to 1000");
  for (const char* k : {"starts_at", "ends_at"})
    if (b.contains(k)) {
      auto t = parse_instant(b[k]);
      if (!t)
        return invalid("starts_at and ends_at are RFC 3339 instants with an offset");
      (k[0] == 's' ? p.starts_at : p.ends_at) = *t;
    }
  if (p.starts_at && p.ends_at && *p.ends_at <= *p.starts_at)
    return invalid("ends_at must be after starts_at");
  return [id = *id, p](admin_store& a, const admin_call& call) { return a.edit_session(call, id, p); };
}

admin_op session_cancel(const call& c, const json& b) {
  auto id = path_id(c);
  if (!id)
    return invalid("bad session id");
  if (!only_keys(b, {"reason"}))
    return invalid("unknown field");
  std::string reason;
  if (b.contains("reason") && !b["reason"].is_null()) {
    if (!good_text(b["reason"], max_reason_chars))
      return invalid("reason is a text of 1 to 500 characters");
    reason = b["reason"].get<std::string>();
  }
  return [id = *id, reason](admin_store& a, const admin_call& call) { return a.cancel_session(call, id, reason); };
}

admin_op member_create(const json& b) {
  if (!only_keys(b, {"name", "email", "credits", "leave_quota"}) || !b.contains("name") || !b.contains("email"))
    return invalid("name and email are required");
  if (!good_text(b["name"], max_name_chars))
    return invalid("name is a text of 1 to 200 characters");
  if (!good_email(b["email"]))
    return invalid("email is not an email address");
  member_input in;
  in.name = b["name"].get<std::string>();
  in.email = b["email"].get<std::string>();
  for (const char* k : {"credits", "leave_quota"})
    if (b.contains(k) && !b[k].is_null()) {
      auto n = int_in(b[k], 0, max_member_credits);
      if (!n)
        return invalid("credits and leave_quota are integers from 0 to 100000");
      (k[0] == 'c' ? in.credits : in.leave_quota) = *n;
    }
  return [in](admin_store& a, const admin_call& call) { return a.create_member(call, in); };
}

admin_op member_credits(const call& c, const json& b) {
  auto id = path_id(c);
  if (!id)
    return invalid("bad member id");
  if (!only_keys(b, {"delta", "reason"}) || !b.contains("delta") || !b.contains("reason"))
    return invalid("delta and reason are required");
  auto delta = int_in(b["delta"], -max_credit_delta, max_credit_delta);
  if (!delta || *delta == 0)
    return invalid("delta is a non-zero integer from -1000 to 1000");
  if (!good_text(b["reason"], 200))
    return invalid("reason is a text of 1 to 200 characters");
  auto reason = b["reason"].get<std::string>();
  return [id = *id, d = *delta, reason](admin_store& a, const admin_call& call) {
    return a.change_credits(call, id, d, reason);
  };
}

/// A write route: parse with `make`, then run it as the admin.
template <class Make>
void write_route(route_context& ctx, call& c, const char* operation, Make make) {
  auto p = begin(ctx, c, true);
  if (!p)
    return;
  run_write(ctx, c, p->who, operation, make(c, p->body));
}

/// A write route on a path id with no body fields.
admin_op by_id(const call& c, const json& b, const char* what,
               admin_result (admin_store::*fn)(const admin_call&, id_type)) {
  auto id = path_id(c);
  if (!id)
    return invalid(std::string("bad ") + what + " id");
  if (!b.empty())
    return invalid("this request takes no fields");
  return [id = *id, fn](admin_store& a, const admin_call& call) { return (a.*fn)(call, id); };
}

template <class Read>
void read_route(route_context& ctx, call& c, const char* operation, Read read) {
  if (!begin(ctx, c, false))
    return;
  read(ctx, c, operation);
}

} // namespace

void add_admin_routes(route_table& t) {
  t.add("POST", "/{lang}/v2/admin/locations", true, [](route_context& x, call& c) {
    write_route(x, c, "admin location.create", [](const call&, const json& b) { return location_create(b); });
  });
  t.add("PATCH", "/{lang}/v2/admin/locations/{id}", true,
        [](route_context& x, call& c) { write_route(x, c, "admin location.update", location_edit); });
  t.add("POST", "/{lang}/v2/admin/sessions", true, [](route_context& x, call& c) {
    write_route(x, c, "admin session.create", [](const call&, const json& b) { return session_create(b); });
  });
  t.add("POST", "/{lang}/v2/admin/schedules", true, [](route_context& x, call& c) {
    write_route(x, c, "admin schedule.create", [](const call&, const json& b) { return schedule_create(b); });
  });
  t.add("PATCH", "/{lang}/v2/admin/sessions/{id}", true,
        [](route_context& x, call& c) { write_route(x, c, "admin session.update", session_edit); });
  t.add("POST", "/{lang}/v2/admin/sessions/{id}/cancel", true,
        [](route_context& x, call& c) { write_route(x, c, "admin session.cancel", session_cancel); });
  t.add("GET", "/{lang}/v2/admin/sessions/{id}/waitlist", true, [](route_context& x, call& c) {
    read_route(x, c, "admin session.waitlist", [](route_context& ctx, call& c, const char* op) {
      auto id = path_id(c);
      if (!id)
        return send_error(c.res, error_code::invalid_request, c.language);
      run_read(ctx, c, op, [id](admin_store& a) { return a.session_waitlist(*id); });
    });
  });
  t.add("POST", "/{lang}/v2/admin/members", true, [](route_context& x, call& c) {
    write_route(x, c, "admin member.create", [](const call&, const json& b) { return member_create(b); });
  });
  t.add("GET", "/{lang}/v2/admin/members/{id}", true, [](route_context& x, call& c) {
    read_route(x, c, "admin member.read", [](route_context& ctx, call& c, const char* op) {
      auto id = path_id(c);
      if (!id)
        return send_error(c.res, error_code::invalid_request, c.language);
      run_read(ctx, c, op, [id](admin_store& a) { return a.member(*id); });
    });
  });
  t.add("POST", "/{lang}/v2/admin/members/{id}/tokens", true, [](route_context& x, call& c) {
    write_route(x, c, "admin token.issue",
                [](const call& c, const json& b) { return by_id(c, b, "member", &admin_store::issue_token); });
  });
  t.add("POST", "/{lang}/v2/admin/tokens/{id}/revoke", true, [](route_context& x, call& c) {
    write_route(x, c, "admin token.revoke",
                [](const call& c, const json& b) { return by_id(c, b, "token", &admin_store::revoke_token); });
  });
  t.add("POST", "/{lang}/v2/admin/members/{id}/deactivate", true, [](route_context& x, call& c) {
    write_route(x, c, "admin member.deactivate",
                [](const call& c, const json& b) { return by_id(c, b, "member", &admin_store::deactivate_member); });
  });
  t.add("POST", "/{lang}/v2/admin/members/{id}/credits", true,
        [](route_context& x, call& c) { write_route(x, c, "admin credits.change", member_credits); });
  t.add("GET", "/{lang}/v2/admin/members/{id}/ledger", true, [](route_context& x, call& c) {
    read_route(x, c, "admin member.ledger", [](route_context& ctx, call& c, const char* op) {
      auto id = path_id(c);
      if (!id)
        return send_error(c.res, error_code::invalid_request, c.language);
      auto page = listing_of(c);
      if (!page)
        return;
      run_read(ctx, c, op, [id, page](admin_store& a) { return a.ledger(*id, page->limit, page->before); });
    });
  });
  t.add("GET", "/{lang}/v2/admin/audit", true, [](route_context& x, call& c) {
    read_route(x, c, "admin audit", [](route_context& ctx, call& c, const char* op) {
      auto page = listing_of(c);
      if (!page)
        return;
      run_read(ctx, c, op, [page](admin_store& a) { return a.audit(page->limit, page->before); });
    });
  });
}

} // namespace booking
