#include "actors/location_cache.hpp"

#include <caf/all.hpp>

#include "model/json.hpp"
#include "telemetry/log.hpp"

namespace booking {

namespace {

bool same(const std::vector<location>& a, const std::vector<location>& b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].id != b[i].id || a[i].name != b[i].name || a[i].address != b[i].address)
      return false;
  return true;
}

} // namespace

void location_cache_state::on_get(waiter w) {
  bool stale = std::chrono::steady_clock::now() - loaded_at >= ctx->location_ttl;
  if (list) {
    // A stale list is still served while the refresh runs: locations change rarely.
    ctx->metrics->cache(cache_name::locations, stale ? cache_result::miss : cache_result::hit);
    answer(w);
    if (stale)
      refresh();
    return;
  }
  ctx->metrics->cache(cache_name::locations, loading ? cache_result::coalesced : cache_result::miss);
  waiters.push_back(std::move(w));
  refresh();
}

void location_cache_state::refresh() {
  if (loading)
    return;
  loading = true;
  ctx->metrics->store_load(load_kind::locations);
  auto hdl = caf::actor_cast<location_cache_actor>(self);
  auto* m = ctx->metrics;
  auto span = std::make_shared<child_span>(refresh_span()); // ended by the store thread
  auto* pool = ctx->pool;
  pool->submit([hdl, m, span, pool](store* db) {
    std::optional<trace_scope> in_request;
    if (*span)
      in_request.emplace(span->context());
    span->set("booking.store.queue_wait_us", (unix_nanos() - span->start_ns()) / 1000);
    location_list fresh;
    if (!db && pool->stopping()) { // not run: the server stops
      span->fail("shutdown");
      span->end();
      caf::anon_send(hdl, loaded_atom::value, std::move(fresh));
      return;
    }
    try {
      if (!db)
        throw sql::error("no store connection", 1);
      fresh = std::make_shared<const std::vector<location>>(db->locations());
    } catch (const std::exception& e) {
      m->store_error();
      span->fail("store_error");
      log_error("store load failed").kv("kind", "locations").kv("error", e.what());
    }
    span->end();
    caf::anon_send(hdl, loaded_atom::value, std::move(fresh));
  });
}

void location_cache_state::refresh_now(reply_ptr done) {
  if (loading) {
    pending_refreshes.push_back(std::move(done));
    return;
  }
  covered_refreshes.push_back(std::move(done));
  refresh();
}

child_span location_cache_state::refresh_span() const {
  // A child of the first sampled request that waits for it; a refresh that nobody waits for (TTL,
  // a stale list served meanwhile) is a trace of its own, sampled by ratio.
  for (auto& w : waiters)
    if (w.span)
      return store_span(ctx->tracing, "locations", w.span.context());
  return background_store_span(ctx->tracing, "locations");
}

void location_cache_state::on_loaded(location_list fresh) {
  loading = false;
  if (fresh) {
    loaded_at = std::chrono::steady_clock::now();
    if (!list || !same(*list, *fresh)) {
      list = fresh;
      body = std::make_shared<const std::string>(locations_body(*list));
      if (ctx->published)
        ctx->published->set_locations(list);
      for (auto& d : subscribers)
        self->send(d, locations_atom::value, list);
    }
  }
  auto parked = std::move(waiters);
  waiters.clear();
  for (auto& w : parked)
    answer(w);
  // The directories were sent the new list above, before these answers: a page requested after
  // the answer is queued behind it in the directory's mailbox.
  auto refreshed = std::move(covered_refreshes);
  covered_refreshes.clear();
  for (auto& done : refreshed)
    done->deliver(fresh ? body_result{body, error_code::none} : body_result{nullptr, error_code::unavailable});
  if (!pending_refreshes.empty()) {
    covered_refreshes = std::move(pending_refreshes);
    pending_refreshes.clear();
    refresh();
  }
}

void location_cache_state::answer(waiter& w) {
  if (!list)
    w.span.fail(to_string(error_code::unavailable));
  w.span.end();
  w.reply->deliver(list ? body_result{body, error_code::none} : body_result{nullptr, error_code::unavailable});
}

location_cache_actor::behavior_type location_cache(location_cache_actor::stateful_pointer<location_cache_state> self,
                                                   std::shared_ptr<const cache_context> ctx,
                                                   std::vector<user_directory_actor> subscribers) {
  auto& st = self->state;
  st.self = self;
  st.ctx = std::move(ctx);
  st.subscribers = std::move(subscribers);
  st.refresh();
  return {
    [self](locations_atom, reply_ptr& reply, hop& h) {
      auto& st = self->state;
      // A CONSUMER of the caller's hand-off: it may end after the request gave up (a reply timeout).
      st.on_get(location_cache_state::waiter{
        std::move(reply), child_span{st.ctx->tracing, "location_cache locations", h, span_kind::consumer}});
    },
    [self](refresh_atom) { self->state.refresh(); },
    [self](refresh_atom, reply_ptr& done) { self->state.refresh_now(std::move(done)); },
    [self](loaded_atom, location_list& fresh) { self->state.on_loaded(std::move(fresh)); },
  };
}

} // namespace booking
