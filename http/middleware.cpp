#include "http/middleware.hpp"

#include <iostream>
#include <unordered_map>
#include <vector>

#include "http/connection.hpp"
#include "http/errors.hpp"

namespace booking {

namespace {

prometheus::Counter& request_counter(metrics& m, const char* route, const std::string& method, int status) {
  // Family::Add locks; a per-thread list of the few (route, method, status) series this thread has
  // seen avoids that, and a lookup allocates nothing. Routes are stable strings: compared by address.
  struct series {
    const char* route;
    std::string method;
    int status;
    prometheus::Counter* counter;
  };
  thread_local std::vector<series> cache;
  thread_local const metrics* owner = nullptr;
  if (owner != &m) {
    cache.clear();
    owner = &m;
  }
  for (auto& s : cache)
    if (s.route == route && s.status == status && s.method == method)
      return *s.counter;
  auto& c = m.http_requests->Add({{"route", route}, {"method", method}, {"status", std::to_string(status)}});
  cache.push_back(series{route, method, status, &c});
  return c;
}

prometheus::Histogram& duration_histogram(metrics& m, const char* route) {
  thread_local std::unordered_map<const char*, prometheus::Histogram*> cache;
  thread_local const metrics* owner = nullptr;
  if (owner != &m) {
    cache.clear();
    owner = &m;
  }
  auto i = cache.find(route);
  if (i != cache.end())
    return *i->second;
  auto& h = m.http_duration->Add({{"route", route}}, metrics::duration_buckets());
  cache.emplace(route, &h);
  return h;
}

void finish(route_context& ctx, const char* route, const httplib::Request& req, int status, double secs,
            const trace_context* trace) {
  request_counter(ctx.stats, route, req.method, status).Increment();
  duration_histogram(ctx.stats, route).Observe(secs);
  if (status >= 500 || ctx.cfg.access_log) {
    auto tid = trace ? to_hex(trace->trace) : std::string("-");
    if (status >= 500)
      log_line("error", std::string("msg=\"5xx\" route=") + route + " status=" + std::to_string(status)
                          + " trace_id=" + tid);
    if (ctx.cfg.access_log)
      log_line("info", std::string("msg=access method=") + req.method + " route=" + route + " status="
                         + std::to_string(status) + " duration_ms=" + std::to_string(secs * 1000)
                         + " trace_id=" + tid);
  }
}

} // namespace

void log_line(const char* level, const std::string& msg) {
  std::string line = std::string("level=") + level + ' ' + msg + '\n';
  std::cerr.write(line.data(), static_cast<std::streamsize>(line.size())); // one write per line
}

void count_unrouted(route_context& ctx, const char* route, const httplib::Request& req, int status) {
  auto* st = current_request();
  double secs = 0;
  if (st && st->started.time_since_epoch().count() != 0)
    secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - st->started).count();
  finish(ctx, route, req, status, secs, nullptr);
}

void serve(route_context& ctx, const route& r, const route_match& m, const httplib::Request& req,
           httplib::Response& res) {
  auto t0 = std::chrono::steady_clock::now();
  call c{req, res, m.language, m.params, {}};
  std::optional<trace_context> parent;
  if (req.get_header_value_count("traceparent") == 1)
    parent = parse_traceparent(req.get_header_value("traceparent"));
  c.trace = ctx.tracing.start(parent);
  auto start_ns = c.trace.sampled ? unix_nanos() : 0;
  bool counted = false;
  if (r.api) {
    auto n = ctx.inflight.fetch_add(1) + 1;
    ctx.stats.inflight->Increment();
    counted = true;
    if (n > static_cast<std::int64_t>(ctx.cfg.max_inflight)) {
      ctx.stats.rejected->Add({{"reason", "overloaded"}}).Increment();
      send_error(res, error_code::overloaded, c.language);
    }
  }
  if (res.status == -1) {
    try {
      r.fn(ctx, c);
    } catch (const sql::error& e) {
      ctx.stats.store_errors->Increment();
      log_line("error", std::string("msg=\"store error\" route=") + r.label + " trace_id=" + to_hex(c.trace.trace)
                          + " error=\"" + e.what() + "\"");
      send_error(res, error_code::unavailable, c.language);
    } catch (const std::exception& e) {
      log_line("error", std::string("msg=\"handler failed\" route=") + r.label + " trace_id="
                          + to_hex(c.trace.trace) + " error=\"" + e.what() + "\"");
      send_error(res, error_code::internal, c.language);
    }
  }
  if (res.status == -1) // a route that forgot to answer is a bug, never an empty 200
    send_error(res, error_code::internal, c.language);
  if (counted) {
    ctx.inflight.fetch_sub(1);
    ctx.stats.inflight->Decrement();
  }
  res.set_header("traceparent", format_traceparent(c.trace));
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (c.trace.sampled && r.api) { // ops endpoints are not traced
    span_record s;
    s.trace = c.trace.trace;
    s.id = c.trace.span;
    if (parent)
      s.parent = parent->span;
    s.name = req.method + " " + r.label;
    s.kind = span_kind::server;
    s.start_ns = start_ns;
    s.end_ns = unix_nanos();
    s.error = res.status >= 500;
    s.attr("http.request.method", req.method)
      .attr("http.route", r.label)
      .attr("url.path", req.path)
      .attr("url.scheme", std::string("http"))
      .attr("network.protocol.version", std::string("1.1"))
      .attr("http.response.status_code", static_cast<std::int64_t>(res.status));
    ctx.tracing.record(std::move(s));
  }
  finish(ctx, r.label.c_str(), req, res.status, secs, &c.trace);
}

} // namespace booking
