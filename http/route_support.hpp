// What the route files share: the handled request, the handler wrapper (admission, metrics, traces,
// access log, exception safety), and the small parsers every route uses.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "http/routes.hpp"

namespace booking {

/// A handled request: the language, and the principal once authenticated.
struct call {
  const httplib::Request& req;
  httplib::Response& res;
  lang language = lang::en;
  trace_context trace; // span: this request's server span
  /// Where the next hop's message leaves from (its parent is the server span).
  hop next_hop() const { return hop{trace, trace.sampled ? unix_nanos() : 0}; }
};

/// A store call made on this HTTP thread, as a client span of the request when sampled.
template <class F>
inline auto traced_store_call(route_context& ctx, const call& c, const char* operation, F f) {
  if (!c.trace.sampled)
    return f();
  span_record s;
  s.trace = c.trace.trace;
  s.id = ctx.tracing.new_span_id();
  s.parent = c.trace.span;
  s.name = std::string("store ") + operation;
  s.kind = span_kind::client;
  s.start_ns = unix_nanos();
  s.attr("db.system", std::string("sqlite")).attr("db.operation", std::string(operation));
  try {
    auto r = f();
    s.end_ns = unix_nanos();
    ctx.tracing.record(std::move(s));
    return r;
  } catch (...) {
    s.end_ns = unix_nanos();
    s.error = true;
    ctx.tracing.record(std::move(s));
    throw;
  }
}

/// Wraps a route body with admission control, metrics, the server span and the access log.
httplib::Server::Handler route_handler(route_context& ctx, const char* route, std::function<void(call&)> f);
/// The language of the `{lang}` capture, or a 404 (any other value is not a route).
bool language(call& c);
/// The JSON object of a POST body; an empty body is `{}`. nullopt after an error reply.
std::optional<nlohmann::json> body_object(call& c);

/// The studio administration routes (SPEC §4), in http/admin_routes.cpp.
void register_admin_routes(httplib::Server& svr, route_context& ctx);

} // namespace booking
