#include "actors/user_cache.hpp"

#include <iostream>

#include <caf/all.hpp>

namespace booking {

bool user_cache_state::fresh_for(const page_query& q) const {
  return snap && snap_epoch >= q.epoch && std::chrono::steady_clock::now() < fresh_until;
}

void user_cache_state::on_page(waiter w) {
  if (w.q.trace.ctx.sampled && ctx->tracing) {
    w.received_ns = unix_nanos();
    w.span = ctx->tracing->new_span_id();
  }
  if (!loading && fresh_for(w.q)) {
    ctx->stats->page_hit->Increment();
    answer(w, snap);
    return;
  }
  w.result = loading ? "coalesced" : "miss";
  waiters.push_back(std::move(w));
  if (loading) {
    ctx->stats->page_coalesced->Increment();
    return;
  }
  ctx->stats->page_miss->Increment();
  start_load();
}

void user_cache_state::finish_span(const waiter& w, error_code e) {
  if (!w.q.trace.ctx.sampled || !ctx->tracing)
    return;
  auto s = hop_span(w.q.trace, w.span, name, "page", w.received_ns);
  bool coalesced = std::string_view{w.result} == "coalesced";
  s.attr("cache.result", std::string(w.result)).attr("coalesced", coalesced);
  if (std::string_view{w.result} != "hit")
    s.links.emplace_back(load_trace, load_span);
  if (e != error_code::none) {
    s.error = true;
    s.attr("error.type", std::string(to_string(e)));
  }
  ctx->tracing->record(std::move(s));
}

void user_cache_state::start_load() {
  loading = true;
  auto gen = generation;
  // Read the epoch before the load's transaction can begin: any write that returned 2xx before
  // this point is visible to the load; any later one has a larger epoch.
  auto epoch = ctx->epochs->current(user);
  ctx->stats->loads_user_page->Increment();
  auto hdl = caf::actor_cast<user_cache_actor>(self);
  auto id = user;
  auto* stats = ctx->stats;
  // The load's span belongs to the trace of the request that started it.
  tracer* tr = nullptr;
  span_record span;
  const auto& trigger = waiters.back();
  if (ctx->tracing) {
    load_span = ctx->tracing->new_span_id();
    load_trace = trigger.q.trace.ctx.trace;
    if (trigger.q.trace.ctx.sampled) {
      tr = ctx->tracing;
      span.trace = load_trace;
      span.id = load_span;
      span.parent = trigger.span;
      span.name = "store load_user";
      span.kind = span_kind::client;
      span.start_ns = unix_nanos(); // submitted
    }
  }
  ctx->pool->submit([hdl, id, gen, epoch, stats, tr, span](store* db) mutable {
    auto started = tr ? unix_nanos() : 0;
    load_result r;
    try {
      if (!db)
        throw sql::error("no store connection", 1);
      auto s = db->load_user(id);
      if (s)
        r.snapshot = std::make_shared<const user_snapshot>(std::move(*s));
      else
        r.error = error_code::not_found;
    } catch (const std::exception& e) {
      stats->store_errors->Increment();
      r.error = error_code::unavailable;
      std::cerr << "level=error msg=\"store load failed\" kind=user_page error=\"" << e.what() << "\""
                << (tr ? " trace_id=" + to_hex(span.trace) : std::string()) << std::endl;
    }
    if (tr) {
      span.end_ns = unix_nanos();
      span.attr("db.system", std::string("sqlite"))
        .attr("db.operation", std::string("load_user"))
        .attr("store.queue_wait_us", static_cast<std::int64_t>((started - span.start_ns) / 1000))
        .attr("store.bookings", static_cast<std::int64_t>(r.snapshot ? r.snapshot->bookings.size() : 0));
      span.error = r.error == error_code::unavailable;
      tr->record(std::move(span));
    }
    caf::anon_send(hdl, loaded_atom::value, gen, epoch, std::move(r));
  });
}

void user_cache_state::on_loaded(std::uint64_t gen, std::uint64_t epoch, const load_result& r) {
  loading = false;
  if (r.error != error_code::none) {
    auto failed = std::move(waiters);
    waiters.clear();
    for (auto& w : failed)
      fail(w, r.error);
    quit_if_done();
    return;
  }
  if (gen == generation) {
    snap = r.snapshot;
    snap_epoch = epoch;
    // Between 80% and 100% of the TTL, spread per user and load: users warmed together (a
    // stampede) do not all expire in the same instant.
    auto spread = (static_cast<std::uint64_t>(user) * 0x9E3779B97F4A7C15ull + ++loads) >> 58; // 0..63
    fresh_until = std::chrono::steady_clock::now() + ctx->ttl - ctx->ttl * static_cast<long>(spread) / 320;
    bodies.clear();
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

void user_cache_state::on_invalidate() {
  ++generation;
  snap.reset();
  bodies.clear();
  ctx->stats->invalidations_applied->Increment();
}

void user_cache_state::on_stop() {
  stopping = true;
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
    if (bodies.size() >= defaults::rendered_per_user)
      bodies.erase(bodies.begin());
    bodies.push_back(rendered{q.language, q.range, q.locations, body, page.valid_until});
  }
  return body;
}

void user_cache_state::answer(waiter& w, const std::shared_ptr<const user_snapshot>& from) {
  auto body = body_for(w.q, from);
  finish_span(w, error_code::none);
  if (w.slot)
    w.slot->deliver(body_result{body, error_code::none});
  else
    w.promise.deliver(body);
}

void user_cache_state::fail(waiter& w, error_code e) {
  finish_span(w, e);
  if (w.slot)
    w.slot->deliver(body_result{nullptr, e});
  else
    w.promise.deliver(make_error(e));
}

user_cache_actor::behavior_type user_cache(user_cache_actor::stateful_pointer<user_cache_state> self,
                                           std::shared_ptr<const cache_context> ctx, id_type user) {
  auto& st = self->state;
  st.self = self;
  st.ctx = std::move(ctx);
  st.user = user;
  return {
    [self](page_atom, page_query& q) -> caf::typed_response_promise<body_ptr> {
      auto rp = self->make_response_promise<body_ptr>();
      self->state.on_page(user_cache_state::waiter{std::move(q), rp, nullptr});
      return rp;
    },
    [self](page_atom, page_query& q, slot_ptr& slot) {
      self->state.on_page(user_cache_state::waiter{std::move(q), {}, std::move(slot)});
    },
    [self](invalidate_atom) { self->state.on_invalidate(); },
    [self](loaded_atom, std::uint64_t gen, std::uint64_t epoch, const load_result& r) {
      self->state.on_loaded(gen, epoch, r);
    },
    [self](stop_atom) { self->state.on_stop(); },
  };
}

} // namespace booking
