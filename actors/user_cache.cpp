#include "actors/user_cache.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "telemetry/log.hpp"

namespace booking {

bool user_cache_state::fresh_for(const page_query& q) const {
  return snap && snap_epoch >= q.epoch && std::chrono::steady_clock::now() < fresh_until;
}

void user_cache_state::on_page(waiter w) {
  w.span = child_span{ctx->tracing, "user_cache page", w.q.trace, span_kind::consumer};
  if (!loading && fresh_for(w.q)) {
    ctx->metrics->cache(cache_name::user_page, cache_result::hit);
    answer(w, snap);
    return;
  }
  w.result = loading ? cache_result::coalesced : cache_result::miss;
  ctx->metrics->cache(cache_name::user_page, w.result);
  waiters.push_back(std::move(w));
  if (loading) {
    trace_load_for(waiters.back());
    return;
  }
  start_load();
}

void user_cache_state::start_load() {
  loading = true;
  auto gen = generation;
  // Read the epoch before the load's transaction can begin: any write that returned 2xx before
  // this point is visible to the load; any later one has a larger epoch.
  auto epoch = ctx->epochs->current(user);
  ctx->metrics->store_load(load_kind::user_page);
  auto& trigger = waiters.back();
  start_load_span(trigger);
  auto hdl = caf::actor_cast<user_cache_actor>(self);
  auto id = user;
  auto* m = ctx->metrics;
  auto request = trigger.q.trace.ctx;
  auto* pool = ctx->pool;
  pool->submit([hdl, id, gen, epoch, m, request, pool](store* db) {
    trace_scope in_request{request}; // log lines carry the trace id
    load_result r;
    r.started_ns = unix_nanos();
    try {
      if (!db && pool->stopping()) {
        r.error = error_code::unavailable; // not run: the server stops, and nobody waits for it
        r.finished_ns = r.started_ns;
        caf::anon_send(hdl, loaded_atom::value, gen, epoch, std::move(r));
        return;
      }
      if (!db)
        throw sql::error("no store connection", 1);
      auto s = db->load_user(id);
      if (s)
        r.snapshot = std::make_shared<const user_snapshot>(std::move(*s));
      else
        r.error = error_code::not_found;
    } catch (const std::exception& e) {
      m->store_error();
      r.error = error_code::unavailable;
      log_error("store load failed").kv("kind", "user_page").kv("error", e.what());
    }
    r.finished_ns = unix_nanos();
    caf::anon_send(hdl, loaded_atom::value, gen, epoch, std::move(r));
  });
}

void user_cache_state::on_loaded(std::uint64_t gen, std::uint64_t epoch, const load_result& r) {
  loading = false;
  end_load_span(r);
  if (r.error != error_code::none) {
    auto failed = std::move(waiters);
    waiters.clear();
    for (auto& w : failed)
      fail(w, r.error);
    quit_if_done();
    return;
  }
  if (gen == generation) {
    keep(r.snapshot, epoch);
    withdraw(); // published again once a body of the new snapshot is rendered
  }
  // A waiter that read a newer epoch than this load's was sent after a write this load may have
  // missed: it waits for the next load. Everyone else is answered from this one.
  std::vector<waiter> later;
  auto parked = std::move(waiters);
  waiters.clear();
  for (auto& w : parked) {
    if (w.q.epoch > epoch)
      later.push_back(std::move(w));
    else
      answer(w, r.snapshot);
  }
  waiters = std::move(later);
  if (!waiters.empty())
    start_load();
  quit_if_done();
}

void user_cache_state::on_invalidate(const written_snapshot& w) {
  ++generation; // a load still running began before this write: it never fills the cache
  snap.reset();
  bodies.clear();
  withdraw();
  ctx->metrics->invalidation(invalidation_result::applied);
  // The member's own write handed the snapshot it left. Its epoch was bumped under the writer lock,
  // so every write fenced at or below it had committed before the snapshot was read. A write fenced
  // since (the epoch moved on) may be missing from it: then it is dropped, as a plain invalidation.
  if (w.snapshot && !stopping && w.epoch >= ctx->epochs->current(user))
    keep(w.snapshot, w.epoch);
}

void user_cache_state::keep(std::shared_ptr<const user_snapshot> s, std::uint64_t epoch) {
  snap = std::move(s);
  snap_epoch = epoch;
  // Between 80% and 100% of the TTL, spread per user and load: users warmed together (a
  // stampede) do not all expire in the same instant.
  auto spread = (static_cast<std::uint64_t>(user) * 0x9E3779B97F4A7C15ull + ++loads) >> 58; // 0..63
  fresh_until = std::chrono::steady_clock::now() + ctx->ttl - ctx->ttl * static_cast<long>(spread) / 320;
  bodies.clear();
}

void user_cache_state::on_stop() {
  stopping = true;
  withdraw();
  quit_if_done();
}

void user_cache_state::quit_if_done() {
  if (stopping && !loading && waiters.empty())
    self->quit();
}

body_ptr user_cache_state::body_for(const page_query& q, const std::shared_ptr<const user_snapshot>& from) {
  auto now = now_seconds();
  bool cacheable = from == snap;
  if (cacheable)
    for (auto& b : bodies)
      if (b.language == q.language && b.range == q.range && b.locations == q.locations && now < b.valid_until)
        return b.body;
  static const std::vector<location> no_locations;
  auto page = render_page(*from, q.range, q.locations ? *q.locations : no_locations, *ctx->tz, q.language, now,
                          ctx->waitlist_cutoff);
  auto body = std::make_shared<const std::string>(std::move(page.body));
  if (cacheable) {
    // What this body replaces can never be served again: a body of the same language and range (its
    // class started, or it was rendered for an older location list), and any body whose class
    // started. Without this, every class start left a dead copy of the page behind until four were
    // kept per user.
    bodies.erase(std::remove_if(bodies.begin(), bodies.end(),
                                [&](const rendered& b) {
                                  return now >= b.valid_until || (b.language == q.language && b.range == q.range);
                                }),
                 bodies.end());
    if (bodies.size() >= defaults::rendered_per_user)
      bodies.erase(bodies.begin());
    bodies.push_back(rendered{q.language, q.range, q.locations, body, page.valid_until});
    publish();
  }
  return body;
}

void user_cache_state::publish() {
  if (!ctx->published || stopping || !snap)
    return;
  auto e = std::make_shared<published_entry>();
  e->epoch = snap_epoch;
  e->fresh_until = fresh_until;
  e->bodies.reserve(bodies.size());
  for (auto& b : bodies)
    e->bodies.push_back(published_body{b.language, b.range, b.locations, b.body, b.valid_until});
  ctx->published->publish(user, incarnation, std::move(e));
}

void user_cache_state::withdraw() {
  if (ctx->published)
    ctx->published->withdraw(user, incarnation);
}

void user_cache_state::answer(waiter& w, const std::shared_ptr<const user_snapshot>& from) {
  auto body = body_for(w.q, from);
  end_span(w);
  w.reply->deliver(body_result{body, error_code::none});
}

void user_cache_state::fail(waiter& w, error_code e) {
  w.span.fail(to_string(e));
  end_span(w);
  w.reply->deliver(body_result{nullptr, e});
}

void user_cache_state::start_load_span(waiter& trigger) {
  trigger.started_load = true;
  load_span = store_span(ctx->tracing, "load_user", trigger.span.context());
  load_started_ns = unix_nanos();
  for (auto& w : waiters) // requests parked for this load (they read a newer epoch than the last)
    trace_load_for(w);
}

void user_cache_state::trace_load_for(const waiter& w) {
  if (!w.span || load_span)
    return;
  // A sampled request waits for a load that nobody records (its trigger is not sampled): record
  // the load as a root of its own, which the request links to.
  load_span = child_span::new_root(ctx->tracing, "store load_user", span_kind::client, load_started_ns);
  load_span.set("db.system.name", "sqlite").set("db.operation.name", "load_user");
}

void user_cache_state::end_load_span(const load_result& r) {
  load_trace = load_span.trace();
  load_id = load_span.id();
  if (!load_span)
    return;
  load_span.set("booking.store.queue_wait_us", (r.started_ns - load_span.start_ns()) / 1000)
    .set("booking.store.bookings", r.snapshot ? r.snapshot->bookings.size() : 0);
  if (r.error == error_code::unavailable)
    load_span.fail("store_error");
  load_span.end(r.finished_ns);
}

void user_cache_state::end_span(waiter& w) {
  w.span.set("booking.cache.result", to_string(w.result))
    .set("booking.cache.coalesced", w.result == cache_result::coalesced);
  if (!w.started_load && w.result != cache_result::hit)
    w.span.link(load_trace, load_id); // the load that answered it, recorded since this one is sampled
  w.span.end();
}

user_cache_actor::behavior_type user_cache(user_cache_actor::stateful_pointer<user_cache_state> self,
                                           std::shared_ptr<const cache_context> ctx, id_type user,
                                           std::uint64_t incarnation) {
  auto& st = self->state;
  st.self = self;
  st.ctx = std::move(ctx);
  st.user = user;
  st.incarnation = incarnation;
  return {
    [self](page_atom, page_query& q, reply_ptr& reply) {
      self->state.on_page(user_cache_state::waiter{std::move(q), std::move(reply), {}, cache_result::hit, false});
    },
    [self](invalidate_atom, const hop& h, const written_snapshot& w) {
      child_span span{self->state.ctx->tracing, "user_cache invalidate", h, span_kind::consumer};
      self->state.on_invalidate(w);
    },
    [self](loaded_atom, std::uint64_t gen, std::uint64_t epoch, const load_result& r) {
      self->state.on_loaded(gen, epoch, r);
    },
    [self](stop_atom) { self->state.on_stop(); },
  };
}

} // namespace booking
