#include "http/routes.hpp"

#include <iostream>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/errors.hpp"
#include "http/guard.hpp"
#include "http/idempotency.hpp"
#include "http/route_support.hpp"
#include "model/json.hpp"
#include "model/labels.hpp"
#include "model/rules.hpp"

namespace booking {

namespace {

using nlohmann::json;
using httplib::Request;
using httplib::Response;

constexpr int max_json_depth = 16;

prometheus::Counter& request_counter(metrics& m, const char* route, const std::string& method, int status) {
  // Family::Add locks; a per-thread list of the few (route, method, status) series this thread has
  // seen avoids that, and a lookup allocates nothing. Routes are static strings: compared by address.
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

void log_line(const char* level, const std::string& msg) { std::cerr << "level=" << level << ' ' << msg << '\n'; }

/// Runs a handler with admission control, exception safety, metrics and the access log.
template <class F>
httplib::Server::Handler handler(route_context& ctx, const char* route, bool admitted, F f) {
  return [&ctx, route, admitted, f](const Request& req, Response& res) {
    auto t0 = std::chrono::steady_clock::now();
    call c{req, res, lang_of_path(req.path), {}};
    std::optional<trace_context> parent;
    if (req.get_header_value_count("traceparent") == 1)
      parent = parse_traceparent(req.get_header_value("traceparent"));
    c.trace = ctx.tracing.start(parent);
    auto start_ns = c.trace.sampled ? unix_nanos() : 0;
    bool counted = false;
    if (admitted) {
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
        f(c);
      } catch (const sql::error& e) {
        ctx.stats.store_errors->Increment();
        log_line("error", std::string("msg=\"store error\" route=") + route + " error=\"" + e.what() + "\"");
        send_error(res, error_code::unavailable, c.language);
      } catch (const std::exception& e) {
        log_line("error", std::string("msg=\"handler failed\" route=") + route + " error=\"" + e.what() + "\"");
        send_error(res, error_code::internal, c.language);
      }
    }
    if (counted) {
      ctx.inflight.fetch_sub(1);
      ctx.stats.inflight->Decrement();
    }
    res.set_header("traceparent", format_traceparent(c.trace));
    auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    request_counter(ctx.stats, route, req.method, res.status).Increment();
    duration_histogram(ctx.stats, route).Observe(secs);
    if (c.trace.sampled && admitted) { // ops endpoints are not traced
      span_record s;
      s.trace = c.trace.trace;
      s.id = c.trace.span;
      if (parent)
        s.parent = parent->span;
      s.name = req.method + " " + route;
      s.kind = span_kind::server;
      s.start_ns = start_ns;
      s.end_ns = unix_nanos();
      s.error = res.status >= 500;
      s.attr("http.request.method", req.method)
        .attr("http.route", std::string(route))
        .attr("url.path", req.path)
        .attr("url.scheme", std::string("http"))
        .attr("network.protocol.version", std::string("1.1"))
        .attr("http.response.status_code", static_cast<std::int64_t>(res.status));
      ctx.tracing.record(std::move(s));
    }
    if (res.status >= 500 || ctx.cfg.access_log) {
      auto tid = to_hex(c.trace.trace);
      if (res.status >= 500)
        log_line("error", std::string("msg=\"5xx\" route=") + route + " status=" + std::to_string(res.status)
                            + " trace_id=" + tid);
      if (ctx.cfg.access_log)
        log_line("info", std::string("msg=access method=") + req.method + " route=" + route + " status="
                           + std::to_string(res.status) + " duration_ms=" + std::to_string(secs * 1000)
                           + " trace_id=" + tid);
    }
  };
}

/// Authenticates and resolves `?user_id=N`: the user acted for, or nullopt after an error reply.
std::optional<id_type> principal(route_context& ctx, call& c) {
  if (c.req.get_header_value_count("Authorization") != 1) {
    send_error(c.res, error_code::unauthorized, c.language);
    return std::nullopt;
  }
  auto who = ctx.auth.authenticate(c.req.get_header_value("Authorization"));
  if (!who) {
    send_error(c.res, error_code::unauthorized, c.language);
    return std::nullopt;
  }
  // The caller's own bucket: acting for someone else does not spend theirs.
  if (!ctx.limiter.allow(who->user_id)) {
    ctx.stats.rejected->Add({{"reason", "rate_limited"}}).Increment();
    send_error(c.res, error_code::rate_limited, c.language);
    c.res.set_header("Retry-After", std::to_string(ctx.limiter.retry_after_seconds()));
    return std::nullopt;
  }
  if (!c.req.has_param("user_id"))
    return who->user_id;
  auto id = c.req.get_param_value_count("user_id") == 1 ? parse_id(c.req.get_param_value("user_id")) : std::nullopt;
  if (!id) {
    send_error(c.res, error_code::invalid_request, c.language);
    return std::nullopt;
  }
  if (*id != who->user_id && who->r != role::admin) {
    send_error(c.res, error_code::forbidden, c.language);
    return std::nullopt;
  }
  return id;
}

/// `from`/`to` of the query, validated as SPEC §4 says.
std::optional<date_range> range_of(route_context& ctx, call& c) {
  std::optional<std::string> from, to;
  for (const char* k : {"from", "to"}) {
    auto n = c.req.get_param_value_count(k);
    if (n > 1) {
      send_error(c.res, error_code::invalid_request, c.language);
      return std::nullopt;
    }
    if (n == 1)
      (k[0] == 'f' ? from : to) = c.req.get_param_value(k);
  }
  auto& tz = ctx.br.actors().tz();
  auto r = resolve_range(from, to, tz.today(now_seconds()));
  if (!r.range)
    send_error(c.res, error_code::invalid_request, c.language);
  return r.range;
}

void get_page(route_context& ctx, call& c) {
  if (!language(c))
    return;
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
  auto r = ctx.br.page(std::move(q));
  if (r.error != error_code::none)
    return send_error(c.res, r.error, c.language);
  send_json(c.res, 200, *r.body);
}

void get_sessions(route_context& ctx, call& c) {
  if (!language(c) || !principal(ctx, c))
    return;
  auto loc = c.req.get_param_value_count("location_id") == 1 ? parse_id(c.req.get_param_value("location_id"))
                                                              : std::nullopt;
  if (!loc)
    return send_error(c.res, error_code::invalid_request, c.language);
  auto range = range_of(ctx, c);
  if (!range)
    return;
  auto& tz = ctx.br.actors().tz();
  auto found = traced_store_call(ctx, c, "sessions_at", [&] {
    auto db = ctx.br.borrow_store();
    std::optional<std::vector<session_view>> out;
    if (db->find_location(*loc))
      out = db->sessions_at(*loc, tz.start_of(range->from), tz.start_of(range->to + date::days{1}));
    return out;
  });
  if (!found)
    return send_error(c.res, error_code::not_found, c.language);
  auto& list = *found;
  auto arr = json::array();
  for (auto& s : list)
    arr.push_back(session_view_json(s, tz));
  send_json(c.res, 200, json{{"sessions", std::move(arr)}}.dump());
}

void get_locations(route_context& ctx, call& c) {
  if (!language(c) || !principal(ctx, c))
    return;
  auto r = ctx.br.locations(c.next_hop());
  if (r.error != error_code::none)
    return send_error(c.res, r.error, c.language);
  send_json(c.res, 200, *r.body);
}

void post_write(route_context& ctx, call& c, write_kind kind) {
  if (!language(c))
    return;
  auto user = principal(ctx, c);
  if (!user)
    return;
  auto body = body_object(c);
  if (!body)
    return;
  write_command cmd;
  cmd.kind = kind;
  if (kind == write_kind::book) {
    auto it = body->find("session_id");
    if (it == body->end() || !it->is_number_integer() || it->get<std::int64_t>() < 1)
      return send_error(c.res, error_code::invalid_request, c.language);
    cmd.target = it->get<std::int64_t>();
  } else {
    auto id = parse_id(c.req.matches[2].str());
    if (!id)
      return send_error(c.res, error_code::invalid_request, c.language);
    cmd.target = *id;
  }
  if (kind == write_kind::leave) {
    auto it = body->find("reason");
    if (it != body->end() && !it->is_null()) {
      if (!it->is_string() || !valid_reason(it->get_ref<const std::string&>()))
        return send_error(c.res, error_code::invalid_request, c.language);
      cmd.reason = it->get<std::string>();
    }
  }
  auto idem = idempotency_of(c.req, *user);
  if (idem.invalid)
    return send_error(c.res, error_code::invalid_request, c.language);
  auto& tz = ctx.br.actors().tz();
  auto now = now_seconds();
  auto l = c.language;
  auto respond = [&](const write_result& r) -> stored_response {
    if (r.error != error_code::none)
      return {status_of(r.error), error_body(r.error, l)};
    return {kind == write_kind::book ? 201 : 200, booking_json(*r.b, tz, l, now, true).dump()};
  };
  auto window = std::chrono::hours{static_cast<int>(ctx.cfg.cancel_window_hours)};
  static const char* const operations[] = {"book", "cancel", "leave"};
  auto out = traced_store_call(ctx, c, operations[static_cast<int>(kind)], [&] {
    return ctx.br.borrow_store()->write(*user, cmd, now, window, idem.request ? &*idem.request : nullptr, respond);
  });
  if (out.mismatch)
    return send_error(c.res, error_code::idempotency_mismatch, c.language);
  send_json(c.res, out.response.status, out.response.body);
  if (out.replayed)
    c.res.set_header("Idempotent-Replayed", "true");
  else if (out.result.error == error_code::none)
    ctx.br.actors().after_write(*user); // before the 2xx leaves: read-your-writes
}

} // namespace

/// The language of the `{lang}` capture, or a 404 (any other value is not a route).
bool language(call& c) {
  auto l = parse_lang(c.req.matches[1].str());
  if (!l) {
    send_error(c.res, error_code::not_found, lang::en);
    return false;
  }
  c.language = *l;
  return true;
}

/// The JSON object of a POST body; an empty body is `{}`. nullopt after an error reply.
std::optional<json> body_object(call& c) {
  if (c.req.body.empty())
    return json::object();
  if (too_deep(c.req.body, max_json_depth)) {
    send_error(c.res, error_code::invalid_request, c.language, true);
    return std::nullopt;
  }
  auto j = json::parse(c.req.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    send_error(c.res, error_code::invalid_request, c.language);
    return std::nullopt;
  }
  return j;
}

httplib::Server::Handler route_handler(route_context& ctx, const char* route, std::function<void(call&)> f) {
  return handler(ctx, route, true, std::move(f));
}

void register_routes(httplib::Server& svr, route_context& ctx) {
  auto& x = ctx;
  svr.Get(R"(/([^/]+)/v2/training/booking)",
          handler(x, "/{lang}/v2/training/booking", true, [&x](call& c) { get_page(x, c); }));
  svr.Get(R"(/([^/]+)/v2/training/sessions)",
          handler(x, "/{lang}/v2/training/sessions", true, [&x](call& c) { get_sessions(x, c); }));
  svr.Get(R"(/([^/]+)/v2/training/locations)",
          handler(x, "/{lang}/v2/training/locations", true, [&x](call& c) { get_locations(x, c); }));
  svr.Post(R"(/([^/]+)/v2/training/bookings)",
           handler(x, "/{lang}/v2/training/bookings", true, [&x](call& c) { post_write(x, c, write_kind::book); }));
  svr.Post(R"(/([^/]+)/v2/training/bookings/([^/]+)/cancel)",
           handler(x, "/{lang}/v2/training/bookings/{id}/cancel", true,
                   [&x](call& c) { post_write(x, c, write_kind::cancel); }));
  svr.Post(R"(/([^/]+)/v2/training/bookings/([^/]+)/leave)",
           handler(x, "/{lang}/v2/training/bookings/{id}/leave", true,
                   [&x](call& c) { post_write(x, c, write_kind::leave); }));
  register_admin_routes(svr, x);

  svr.Get("/healthz", handler(x, "/healthz", false, [](call& c) { send_json(c.res, 200, R"({"status":"ok"})"); }));
  svr.Get("/readyz", handler(x, "/readyz", false, [&x](call& c) {
            bool ok = !x.shutting_down.load();
            if (ok) {
              x.br.borrow_store()->locations(); // the store answers (throws otherwise: 503)
              ok = x.br.locations(hop{}).error == error_code::none; // the actors answer
            }
            if (ok)
              return send_json(c.res, 200, R"({"status":"ready"})");
            send_json(c.res, 503, R"({"status":"not_ready"})");
            c.res.set_header("Retry-After", "1");
          }));
  svr.Get("/debug/traces", handler(x, "/debug/traces", false, [&x](call& c) {
            std::size_t limit = 20;
            if (c.req.has_param("limit")) {
              auto n = c.req.get_param_value_count("limit") == 1 ? parse_id(c.req.get_param_value("limit"))
                                                                  : std::nullopt;
              if (!n || *n > 1000)
                return send_error(c.res, error_code::invalid_request, lang::en);
              limit = static_cast<std::size_t>(*n);
            }
            send_json(c.res, 200, x.tracing.recent(limit).dump());
          }));
  svr.Get("/metrics", handler(x, "/metrics", false, [&x](call& c) {
            c.res.status = 200;
            c.res.set_content(x.stats.serialize(), "text/plain; version=0.0.4; charset=utf-8");
          }));
}

} // namespace booking
