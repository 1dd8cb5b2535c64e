// What every routed request goes through: admission control, exception safety, the server span,
// metrics and the access log (`serve`), and the small pieces routes share (`call`, store spans).
#pragma once

#include <array>
#include <string>
#include <string_view>

#include <httplib.h>

#include "http/route_table.hpp"
#include "http/routes.hpp"
#include "telemetry/child_span.hpp"

namespace booking {

/// A routed request: the language of its path, its path parameters, and its trace.
struct call {
  const httplib::Request& req;
  httplib::Response& res;
  lang language = lang::en;
  std::array<std::string_view, 4> params{};
  trace_context trace; // span: this request's server span
  /// Where the next hop's message leaves from (its parent is the server span).
  hop next_hop() const { return hop::sent(trace); }
};

/// Runs `r` for the request with admission control (API routes), metrics, tracing and logging.
void serve(route_context& ctx, const route& r, const route_match& m, const httplib::Request& req,
           httplib::Response& res);

/// Counts (and with `--access-log` logs) a request the router answered itself: route label
/// `unmatched` (no such path), `refused` (refused before routing) or the route's own label; writes
/// the response's `traceparent` (the caller's trace, or a new one).
void count_unrouted(route_context& ctx, const char* route, const httplib::Request& req, httplib::Response& res);

/// The label values of `booking_http_*` for every route of the table, and for `unmatched` and
/// `refused`: their zero-valued series exist from start-up.
std::vector<metrics::http_route> metric_labels(const route_table& table);

struct request_state;

/// Counts (route `refused`) and access-logs a head the connection stream refused before the library
/// read its request line (a line too long or too slow to arrive), which no handler saw.
void count_unseen_refusal(route_context& ctx, const request_state& st);

/// A store call made on this HTTP thread, as a client span of the request when sampled.
template <class F>
auto traced_store_call(route_context& ctx, const call& c, const char* operation, F f) {
  return store_span(&ctx.tracing, operation, c.trace).run(f);
}

} // namespace booking
