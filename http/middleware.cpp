#include "http/middleware.hpp"

#include <algorithm>

#include "http/connection.hpp"
#include "http/errors.hpp"
#include "http/server_span.hpp"
#include "telemetry/log.hpp"
#include "telemetry/trace_scope.hpp"

namespace booking {

namespace {

/// The incoming `traceparent`, when there is exactly one and it is valid.
std::optional<trace_context> remote_parent(const httplib::Request& req) {
  auto [first, last] = req.headers.equal_range("traceparent");
  if (first == last || std::next(first) != last)
    return std::nullopt;
  return parse_traceparent(first->second);
}

/// The method as a metric label and log value: one of a fixed set, so a client cannot mint series
/// (or put bytes into /metrics and logs) with made-up methods.
const char* method_label(const std::string& m, const request_state* st) {
  auto* k = standard_method(m, st);
  return k ? k : "other";
}

/// Metrics, and the 5xx and access log lines (inside the request's trace scope: they carry its id).
void record(route_context& ctx, const char* route, const char* method, int status, double secs) {
  ctx.metrics.http_request(route, method, status, secs);
  if (status >= 500)
    log_error("5xx").kv("route", route).kv("status", status);
  if (ctx.cfg.access_log)
    log_info("access").kv("method", method).kv("route", route).kv("status", status).kv("duration_ms", secs * 1000);
}

void finish(route_context& ctx, const char* route, const httplib::Request& req, int status, double secs) {
  auto* st = current_request();
  if (st)
    st->counted = true;
  record(ctx, route, method_label(req.method, st), status, secs);
}

} // namespace

void count_unseen_refusal(route_context& ctx, const request_state& st) {
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - st.started).count();
  trace_scope in_request{st.refused_trace}; // the log line carries the trace its answer named
  record(ctx, "refused", method_label({}, &st), st.refused_status, secs);
}

std::vector<metrics::http_route> metric_labels(const route_table& table) {
  const std::vector<int> read{200, 400, 401, 403, 404, 429, 500, 503};
  const std::vector<int> write{200, 201, 400, 401, 403, 404, 409, 411, 413, 422, 429, 500, 503};
  const std::vector<int> ops{200, 400, 503};
  std::vector<metrics::http_route> out;
  for (auto& r : table.routes()) {
    auto& statuses = !r.api ? ops : r.method == "GET" ? read : write;
    std::vector<std::string> methods{r.method};
    if (r.method == "GET")
      methods.push_back("HEAD");
    auto same = std::find_if(out.begin(), out.end(), [&](auto& o) { return o.route == r.label; });
    if (same == out.end()) {
      out.push_back({r.label, methods, statuses});
    } else { // another method on the same path
      same->methods.insert(same->methods.end(), methods.begin(), methods.end());
      for (auto s : statuses)
        if (std::find(same->statuses.begin(), same->statuses.end(), s) == same->statuses.end())
          same->statuses.push_back(s);
    }
  }
  // OPTIONS (204) on every path, and 405 for the methods of {GET, HEAD, POST, PATCH} it does not serve.
  const auto routed = out.size();
  for (std::size_t i = 0; i < routed; ++i) {
    out.push_back({out[i].route, {"OPTIONS"}, {204}});
    std::vector<std::string> others;
    for (const char* m : {"GET", "HEAD", "POST", "PATCH"})
      if (std::find(out[i].methods.begin(), out[i].methods.end(), m) == out[i].methods.end())
        others.push_back(m);
    out.push_back({out[i].route, others, {405}});
  }
  // Every method label there is (a made-up method counts as `other`) has its series from start-up.
  std::vector<std::string> every_method{std::begin(standard_methods), std::end(standard_methods)};
  every_method.push_back("other");
  out.push_back({"unmatched", every_method, {404}});
  out.push_back({"unmatched", {"OPTIONS"}, {204}}); // OPTIONS *
  out.push_back({"refused", {"GET", "HEAD", "POST", "PATCH", "other"}, {400, 408, 411, 413, 414, 431, 503}});
  return out;
}

void count_unrouted(route_context& ctx, const char* route, const httplib::Request& req, httplib::Response& res) {
  auto* st = current_request();
  double secs = 0;
  if (st && st->started.time_since_epoch().count() != 0)
    secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - st->started).count();
  // A request answered before routing has its server span too, like every request (SPEC §7: a
  // trace has a root span for the HTTP request): a sampled traceparent in the response names a
  // span that is recorded. Its log lines carry the trace id.
  auto parent = remote_parent(req);
  auto trace = ctx.tracing.start(parent);
  trace_scope in_request{trace};
  // A head the connection refused itself (431, 408) was answered there, under a trace of its own
  // that is not sampled: nothing to record.
  bool answered_by_stream = st && st->refused_status != 0;
  auto span = answered_by_stream ? child_span{}
                                 : server_span(ctx.tracing, ctx.table, req, route, trace, parent,
                                               unix_nanos() - static_cast<std::int64_t>(secs * 1e9));
  res.headers.emplace("traceparent", format_traceparent(trace)); // hex and dashes only
  set_response(span, res.status);
  finish(ctx, route, req, res.status, secs);
}

void serve(route_context& ctx, const route& r, const route_match& m, const httplib::Request& req,
           httplib::Response& res) {
  auto t0 = std::chrono::steady_clock::now();
  call c{req, res, m.language, m.params, {}};
  auto parent = remote_parent(req);
  c.trace = ctx.tracing.start(parent);
  trace_scope in_request{c.trace}; // every log line of this request carries its trace id
  auto span = server_span(ctx.tracing, ctx.table, req, r.label.c_str(), c.trace, parent, unix_nanos());
  bool counted = false;
  if (r.api) {
    auto n = ctx.inflight.fetch_add(1) + 1;
    counted = true;
    if (n > static_cast<std::int64_t>(ctx.cfg.max_inflight)) {
      ctx.metrics.rejected("overloaded");
      send_error(res, error_code::overloaded, c.language);
    }
  }
  if (res.status == -1) {
    try {
      r.fn(ctx, c);
    } catch (const sql::error& e) {
      ctx.metrics.store_error();
      log_error("store error").kv("route", r.label).kv("error", e.what());
      send_error(res, error_code::unavailable, c.language);
    } catch (const std::exception& e) {
      log_error("handler failed").kv("route", r.label).kv("error", e.what());
      send_error(res, error_code::internal, c.language);
    }
  }
  if (res.status == -1) // a route that forgot to answer is a bug, never an empty 200
    send_error(res, error_code::internal, c.language);
  if (counted) {
    ctx.inflight.fetch_sub(1);
  }
  res.headers.emplace("traceparent", format_traceparent(c.trace)); // hex and dashes only
  set_response(span, res.status);
  finish(ctx, r.label.c_str(), req, res.status,
         std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

} // namespace booking
