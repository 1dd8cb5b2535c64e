#include "http/server.hpp"

#include "http/middleware.hpp"
#include "telemetry/child_span.hpp"
#include "model/promotion.hpp"

namespace booking {

http_server::http_server(const server_config& cfg, core& c, metrics& m, tracer& t)
  : cfg_(cfg), svr_(listener_settings{cfg.http_threads, static_cast<std::time_t>(cfg.keep_alive_seconds),
                                      static_cast<std::time_t>(cfg.io_timeout_seconds), cfg.max_body_bytes}) {
  // A request waits at most the reply timeout: for an actor's answer, or for a free store connection.
  std::chrono::milliseconds reply_timeout{cfg.reply_timeout_ms};
  actors_ = std::make_unique<actor_client>(c, reply_timeout);
  stores_ = std::make_unique<store_leases>(cfg.core().store, reply_timeout, &m);
  auto* stores = stores_.get();
  auto* tr = &t;
  auth_ = std::make_unique<authenticator>(
    [stores, tr](const std::string& hash) {
      // A store span of the request being authenticated (the thread's trace scope).
      return store_span(tr, "find_token").run([&] { return stores->borrow()->find_token(hash); });
    },
    std::chrono::seconds{60}, std::chrono::seconds{5});
  ctx_ = std::make_unique<route_context>(cfg, *actors_, *stores_, *auth_, m, t);

  // Admin writes that free seats or raise capacity promote from the waitlist in their transaction,
  // with the same cut-off as member writes. The users returned get their caches fenced before the
  // 2xx: everyone who was waiting (promoted, skipped, or moved up a position), as for member writes.
  auto cutoff = std::chrono::hours{static_cast<int>(cfg.waitlist_cutoff_hours)};
  auto* metrics = &m;
  ctx_->promote = [cutoff, metrics](sql::connection& conn, id_type session, instant now) {
    auto waiting = waiting_users(conn, session);
    auto out = promote_waitlist(conn, session, now, cutoff);
    for (int i = 0; i < out.promoted; ++i)
      metrics->waitlist_promotion(promotion_result::promoted);
    for (int i = 0; i < out.skipped; ++i)
      metrics->waitlist_promotion(promotion_result::skipped);
    return promotion_fanout{out.promoted_users, std::move(waiting)};
  };
  add_api_routes(ctx_->table);
  add_ops_routes(ctx_->table);
  add_admin_routes(ctx_->table);
  m.prepare_http(metric_labels(ctx_->table)); // every series from start-up
  install_edge(svr_, *ctx_);
  auto* x = ctx_.get();
  svr_.on_unseen_refusal = [x](const request_state& st) { count_unseen_refusal(*x, st); };
}

http_server::~http_server() { stop(); }

int http_server::bind() { return svr_.bind(cfg_.bind, cfg_.port); }

void http_server::run() { svr_.listen_after_bind(); }

void http_server::stop() {
  ctx_->shutting_down = true;
  svr_.stop();
}

} // namespace booking
