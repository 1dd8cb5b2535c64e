// The member API of SPEC §4: the booking page, sessions, locations, and the writes.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "http/errors.hpp"
#include "http/guard.hpp"
#include "http/idempotency.hpp"
#include "http/principal.hpp"
#include "model/json.hpp"
#include "model/labels.hpp"
#include "model/rules.hpp"

namespace booking {

namespace {

using nlohmann::json;

void get_page(route_context& ctx, call& c) {
  auto user = principal(ctx, c);
  if (!user)
    return;
  auto range = range_of(ctx, c);
  if (!range)
    return;
  page_query q;
  q.user_id = *user;
  q.language = c.language;
  q.range = *range;
  q.trace = c.next_hop();
  auto r = ctx.actors.page(std::move(q));
  if (r.error != error_code::none)
    return send_error(c.res, r.error, c.language);
  send_json(c.res, 200, std::move(r.body));
}

void get_sessions(route_context& ctx, call& c) {
  if (!principal(ctx, c))
    return;
  auto loc = query_id(c.req, "location_id");
  if (!loc)
    return send_error(c.res, error_code::invalid_request, c.language);
  auto range = range_of(ctx, c);
  if (!range)
    return;
  auto& tz = ctx.actors.core().tz();
  auto found = traced_store_call(ctx, c, "sessions_at", [&] {
    auto db = ctx.stores.borrow();
    std::optional<std::vector<session_view>> out;
    if (db->find_location(*loc))
      out = db->sessions_at(*loc, tz.start_of(range->from), tz.start_of(range->to + date::days{1}));
    return out;
  });
  if (!found)
    return send_error(c.res, error_code::not_found, c.language);
  send_json(c.res, 200, sessions_body(*found, tz));
}

void get_locations(route_context& ctx, call& c) {
  if (!principal(ctx, c))
    return;
  auto r = ctx.actors.locations(c.next_hop());
  if (r.error != error_code::none)
    return send_error(c.res, r.error, c.language);
  send_json(c.res, 200, std::move(r.body));
}

/// The promotion a cancel or leave ran inside its transaction, as a child of the write's store span.
void promotion_span(route_context& ctx, const child_span& store, const write_result& r) {
  if (!store || r.promotion_start_ns == 0)
    return;
  child_span p{&ctx.tracing, "store promotion", store.context()};
  p.start_at(std::max(r.promotion_start_ns, store.start_ns())); // never before its parent
  p.set("db.system.name", "sqlite")
    .set("db.operation.name", "promote_waitlist")
    .set("booking.waitlist.promoted", r.promotion.promoted)
    .set("booking.waitlist.skipped", r.promotion.skipped);
  p.end(std::max(r.promotion_end_ns, r.promotion_start_ns)); // the store span ends after this one
}

void post_write(route_context& ctx, call& c, write_kind kind) {
  auto who = authenticate(ctx, c);
  if (!who)
    return;
  auto user = std::optional<id_type>{who->subject};
  auto idem = idempotency_of(c.req, *user);
  if (idem.invalid)
    return send_error(c.res, error_code::invalid_request, c.language);
  auto now = now_seconds();
  // A refusal of the request itself is answered like any other non-5xx answer: kept with its key.
  auto refuse = [&](error_code e) { send_refusal(ctx, c, *user, idem, e, now); };
  auto body = c.req.body.empty() ? std::optional<json>{json::object()} : parse_strict_json(c.req.body);
  if (!body || !body->is_object()) {
    refuse(error_code::invalid_request);
    return close_after(c.res); // a body we could not read as JSON: nothing more from this peer
  }
  write_command cmd;
  cmd.kind = kind;
  cmd.actor = who->caller;
  // Join and withdraw take no body fields; whatever object is sent is ignored (it still keys idempotency).
  if (kind == write_kind::book) {
    auto it = body->find("session_id");
    auto id = it == body->end() ? std::nullopt : body_id(*it);
    if (!id)
      return refuse(error_code::invalid_request);
    cmd.target = *id;
  } else {
    auto id = parse_id(c.params[0]);
    if (!id)
      return refuse(error_code::invalid_request);
    cmd.target = *id;
  }
  if (kind == write_kind::leave) {
    auto it = body->find("reason");
    if (it != body->end() && !it->is_null()) {
      if (!it->is_string() || !valid_reason(it->get_ref<const std::string&>()))
        return refuse(error_code::invalid_request);
      cmd.reason = it->get<std::string>();
    }
  }
  auto& tz = ctx.actors.core().tz();
  auto l = c.language;
  write_policy policy{std::chrono::hours{static_cast<int>(ctx.cfg.cancel_window_hours)},
                      std::chrono::hours{static_cast<int>(ctx.cfg.waitlist_cutoff_hours)}};
  auto respond = [&](const write_result& r) -> stored_response {
    if (r.error != error_code::none)
      return {status_of(r.error), error_body(r.error, l)};
    int created = kind == write_kind::book || kind == write_kind::join_waitlist ? 201 : 200;
    if (r.entry)
      return {created, entry_body(*r.entry, tz, l, now, policy.waitlist_cutoff)};
    return {created, booking_body(*r.b, tz, l, now, true)};
  };
  static const char* const operations[] = {"book", "cancel", "leave", "waitlist_join", "waitlist_withdraw"};
  auto span = store_span(&ctx.tracing, operations[static_cast<int>(kind)], c.trace);
  // The store writer commits the write with those queued with it. The write reads the member's new
  // snapshot in its own savepoint, and its member's write epoch is bumped after the COMMIT, before
  // the writer lock is released (read-your-writes, in commit order): the cleanup then hands the
  // snapshot to the member's cache instead of making the next page load it again (DESIGN, "Write").
  write_extras extras;
  extras.snapshot = true;
  write_outcome out;
  std::uint64_t epoch = 0;
  span.run([&] {
    ctx.stores.writer().run(
      [&](store& db) {
        out = db.write(*user, cmd, now, policy, idem.request ? &*idem.request : nullptr, respond, extras);
      },
      [&] {
        if (out.result.error == error_code::none && !out.replayed && !out.mismatch)
          epoch = ctx.actors.core().epochs().bump(*user);
      });
  });
  promotion_span(ctx, span, out.result);
  span.end();
  if (out.mismatch)
    return send_error(c.res, error_code::idempotency_mismatch, c.language);
  send_json(c.res, out.response.status, out.response.body);
  if (out.replayed) {
    c.res.set_header("Idempotent-Replayed", "true");
  } else if (out.result.error == error_code::none) {
    // Before the 2xx leaves: read-your-writes for the writer, and every member the write changed (a
    // promoted or skipped member, those who moved up a waitlist) sees it on their next page (SPEC §5.9).
    // A change was committed, so the step above bumped the epoch (an empty snapshot, if the member
    // vanished, is a plain cleanup).
    ctx.actors.core().after_own_write(*user, written_snapshot{std::move(out.snapshot), epoch}, &c.trace);
    for (auto other : out.result.affected_users)
      ctx.actors.core().after_write(other, &c.trace);
    for (int i = 0; i < out.result.promotion.promoted; ++i)
      ctx.metrics.waitlist_promotion(promotion_result::promoted);
    for (int i = 0; i < out.result.promotion.skipped; ++i)
      ctx.metrics.waitlist_promotion(promotion_result::skipped);
  }
}

} // namespace

void send_refusal(route_context& ctx, call& c, id_type user, const idempotency_header& idem, error_code e,
                  instant now) {
  if (!idem.request)
    return send_error(c.res, e, c.language);
  stored_response refusal{status_of(e), error_body(e, c.language)};
  auto out = traced_store_call(ctx, c, "remember_refusal", [&] {
    write_outcome o;
    ctx.stores.writer().run([&](store& db) { o = db.remember_response(user, *idem.request, refusal, now); });
    return o;
  });
  if (out.mismatch)
    return send_error(c.res, error_code::idempotency_mismatch, c.language);
  send_json(c.res, out.response.status, out.response.body);
  if (out.replayed)
    c.res.set_header("Idempotent-Replayed", "true");
}

void add_api_routes(route_table& t) {
  t.add("GET", "/{lang}/v2/training/booking", true, get_page);
  t.add("GET", "/{lang}/v2/training/sessions", true, get_sessions);
  t.add("GET", "/{lang}/v2/training/locations", true, get_locations);
  t.add("POST", "/{lang}/v2/training/bookings", true,
        [](route_context& ctx, call& c) { post_write(ctx, c, write_kind::book); });
  t.add("POST", "/{lang}/v2/training/bookings/{id}/cancel", true,
        [](route_context& ctx, call& c) { post_write(ctx, c, write_kind::cancel); });
  t.add("POST", "/{lang}/v2/training/bookings/{id}/leave", true,
        [](route_context& ctx, call& c) { post_write(ctx, c, write_kind::leave); });
  t.add("POST", "/{lang}/v2/training/sessions/{id}/waitlist", true,
        [](route_context& ctx, call& c) { post_write(ctx, c, write_kind::join_waitlist); });
  t.add("POST", "/{lang}/v2/training/waitlist/{entry_id}/withdraw", true,
        [](route_context& ctx, call& c) { post_write(ctx, c, write_kind::withdraw); });
}

} // namespace booking
