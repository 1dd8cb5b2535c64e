// The ops endpoints (SPEC §4): no token, no personal data, not admission-controlled. Their
// server spans are recorded like any request's when the trace is sampled.
#include "http/errors.hpp"
#include "http/guard.hpp"
#include "http/middleware.hpp"

namespace booking {

namespace {

void healthz(route_context&, call& c) { send_json(c.res, 200, R"({"status":"ok"})"); }

void readyz(route_context& x, call& c) {
  bool ok = !x.shutting_down.load();
  if (ok) {
    x.stores.borrow()->locations();                           // the store answers (throws otherwise: 503)
    ok = x.actors.locations(hop{}).error == error_code::none; // the actors answer
  }
  if (ok)
    return send_json(c.res, 200, R"({"status":"ready"})");
  send_json(c.res, 503, R"({"status":"not_ready"})");
  c.res.set_header("Retry-After", "1");
}

void debug_traces(route_context& x, call& c) {
  std::size_t limit = 20;
  if (c.req.has_param("limit")) {
    auto n = query_id(c.req, "limit");
    if (!n || *n > 1000)
      return send_error(c.res, error_code::invalid_request, lang::en);
    limit = static_cast<std::size_t>(*n);
  }
  send_json(c.res, 200, x.tracing.recent(limit).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void metrics_text(route_context& x, call& c) {
  c.res.status = 200;
  x.metrics.set_inflight(x.inflight.load());
  c.res.set_content(x.metrics.serialize(), "text/plain; version=0.0.4; charset=utf-8");
}

} // namespace

void add_ops_routes(route_table& t) {
  t.add("GET", "/healthz", false, healthz);
  t.add("GET", "/readyz", false, readyz);
  t.add("GET", "/debug/traces", false, debug_traces);
  t.add("GET", "/metrics", false, metrics_text);
}

} // namespace booking
