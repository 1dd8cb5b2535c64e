// The edge: every way cpp-httplib 0.11.4 produces or touches a response goes through here.
//
// Library paths after a handler, and what keeps each one safe (docs/DESIGN.md, "The HTTP edge"):
//  - Range (`apply_ranges`, `write_content_with_provider`): the parsed ranges are cleared before
//    any response is written (pre-routing, the 100-continue check, the error handler), a `Range`
//    header is refused, and no response uses a content provider.
//  - compression (`apply_ranges` reads Accept-Encoding): the header is removed from the request.
//  - the error handler (any status >= 400): answers the library's own errors (400, 414, 416, 413,
//    500) with a JSON error; our own answers pass unchanged.
//  - the exception handler: a generic JSON 500, details only in the log.
//  - 100-continue: the guard, and on API routes the bearer token, are checked before the library
//    sends `100 Continue`; a refusal (or 401) is the answer.
//  - HEAD: answered by the GET route; the library sends the headers only.
//  - `Keep-Alive`, `Accept-Ranges`, `Content-Length`: the post-routing step, which runs last, writes
//    the framing headers from the body that is actually sent, and `Date`.
#include <httplib.h>

#include "http/connection.hpp"
#include "http/errors.hpp"
#include "http/guard.hpp"
#include "http/middleware.hpp"
#include "http/principal.hpp"
#include "telemetry/log.hpp"

namespace booking {

namespace {

using httplib::Request;
using httplib::Response;
using handled = httplib::Server::HandlerResponse;
using namespace std::string_view_literals;

Request& writable(const Request& req) {
  // cpp-httplib hands handlers a const view of the Request object it owns (non-const) for the
  // request's lifetime; clearing what it parsed before it acts on it is the point of the edge.
  return const_cast<Request&>(req);
}

/// Headers whose framing the post-routing step writes itself (a route or the library may have set them).
bool framed_by_us(std::string_view name) {
  // Lengths known at compile time: no strlen per header.
  static constexpr std::string_view ours[] = {"Content-Range"sv, "Accept-Ranges"sv, "Content-Encoding"sv,
                                              "Transfer-Encoding"sv, "Date"sv, "Content-Length"sv};
  for (auto h : ours)
    if (iequals(name, h))
      return true;
  return false;
}

bool carries_body(const Request& req) {
  auto v = req.get_header_value("Content-Length");
  if (v.empty()) // a POST/PATCH without a length may still send bytes: treat them as a body
    return req.method == "POST" || req.method == "PATCH";
  return v != "0";
}

void mark_answered() {
  if (auto* st = current_request())
    st->answered = true;
}

/// The guard's refusal as the answer: JSON, counted under `refused`, and the connection closes.
bool refuse_if_needed(route_context& ctx, const Request& req, Response& res) {
  auto* st = current_request();
  auto verdict = guard_request(req, ctx.cfg.max_body_bytes, st && st->problem != head_problem::none);
  const char* reason = "guard";
  if (!verdict && ctx.shutting_down.load()) {
    verdict = guard_verdict{error_code::unavailable, 0};
    reason = "shutting_down";
  }
  if (!verdict)
    return false;
  ctx.metrics.rejected(reason);
  send_error(res, verdict.code, lang_of_path(req.path), true);
  if (verdict.status != 0)
    res.status = verdict.status;
  mark_answered();
  count_unrouted(ctx, "refused", req, res);
  return true;
}

/// `Expect: 100-continue` on an API route without exactly one valid bearer token (401), or on an
/// admin route with a member's token (403): the refusal instead of inviting a body the route would
/// refuse after reading it. A store failure while looking the token up leaves the answer to the
/// route, after the body.
bool refuse_unauthenticated(route_context& ctx, const Request& req, Response& res) {
  auto m = ctx.table.match(req.method, req.path);
  if (!m.r || !m.r->api)
    return false;
  auto refusal = error_code::unauthorized;
  try {
    if (auto who = bearer_of(ctx, req)) {
      if (who->r == role::admin || m.r->label.rfind("/{lang}/v2/admin/", 0) != 0)
        return false;
      refusal = error_code::forbidden;
    }
  } catch (const std::exception&) {
    return false;
  }
  send_error(res, refusal, m.language, true);
  mark_answered();
  count_unrouted(ctx, m.r->label.c_str(), req, res);
  return true;
}

handled route_request(route_context& ctx, const Request& req, Response& res) {
  sanitize_request(writable(req));
  if (refuse_if_needed(ctx, req, res))
    return handled::Handled;
  mark_answered();
  bool body = carries_body(req);
  if (req.method == "OPTIONS" && req.target == "*") {
    res.status = 204;
    res.set_header("Allow", ctx.table.all_methods());
    if (body)
      close_after(res);
    count_unrouted(ctx, "unmatched", req, res);
    return handled::Handled;
  }
  if (req.path.empty() || req.path.front() != '/') { // an absolute form of another scheme, or none
    send_error(res, error_code::invalid_request, lang::en, true);
    count_unrouted(ctx, "refused", req, res);
    return handled::Handled;
  }
  auto m = ctx.table.match(req.method, req.path);
  if (!m.path_known()) {
    send_error(res, error_code::not_found, lang_of_path(req.path), body);
    count_unrouted(ctx, "unmatched", req, res);
    return handled::Handled;
  }
  // OPTIONS and 405 on a known path are counted and traced under that path's route (SPEC §7 keeps
  // `unmatched` for requests that match no route).
  if (req.method == "OPTIONS") {
    res.status = 204;
    res.set_header("Allow", std::string{m.allow});
    if (body)
      close_after(res);
    count_unrouted(ctx, m.any->label.c_str(), req, res);
    return handled::Handled;
  }
  if (!m.r) {
    send_error(res, error_code::method_not_allowed, m.language, body);
    res.set_header("Allow", std::string{m.allow});
    count_unrouted(ctx, m.any->label.c_str(), req, res);
    return handled::Handled;
  }
  if (req.method == "GET" || req.method == "HEAD") {
    serve(ctx, *m.r, m, req, res);
    return handled::Handled;
  }
  if (req.get_header_value_count("Content-Length") == 0) {
    send_error(res, error_code::length_required, m.language, true);
    count_unrouted(ctx, "refused", req, res);
    return handled::Handled;
  }
  // POST and PATCH: the library reads the body (its size was checked by the guard) and then calls
  // the catch-all handler below, which routes again.
  if (auto* st = current_request())
    st->answered = false;
  return handled::Unhandled;
}

void route_with_body(route_context& ctx, const Request& req, Response& res) {
  mark_answered();
  auto m = ctx.table.match(req.method, req.path);
  if (!m.r) // cannot happen: the same table routed it before the body was read
    return send_error(res, error_code::not_found, lang_of_path(req.path), true);
  serve(ctx, *m.r, m, req, res);
}

error_code error_of_library_status(int status) {
  switch (status) {
    case 404: return error_code::not_found;
    case 405: return error_code::method_not_allowed;
    case 411: return error_code::length_required;
    case 413: return error_code::payload_too_large;
    case 503: return error_code::unavailable;
    default: return status >= 500 ? error_code::internal : error_code::invalid_request;
  }
}

} // namespace

void install_edge(httplib::Server& svr, route_context& ctx) {
  auto* x = &ctx;
  svr.set_pre_routing_handler([x](const Request& req, Response& res) { return route_request(*x, req, res); });
  svr.Post(".*", [x](const Request& req, Response& res) { route_with_body(*x, req, res); });
  svr.Patch(".*", [x](const Request& req, Response& res) { route_with_body(*x, req, res); });

  // `Expect: 100-continue`: the guard and the token decide before the library invites the body.
  svr.set_expect_100_continue_handler([x](const Request& req, Response& res) {
    sanitize_request(writable(req));
    return refuse_if_needed(*x, req, res) || refuse_unauthenticated(*x, req, res) ? res.status : 100;
  });

  svr.set_exception_handler([](const Request& req, Response& res, std::exception_ptr) {
    sanitize_request(writable(req));
    log_error("unhandled exception");
    res.headers.clear();
    send_error(res, error_code::internal, lang_of_path(req.path), true);
    mark_answered();
  });

  // Errors the library answers itself (malformed request line or headers, URI too long, a Range it
  // could not parse, a body it could not read): a JSON error, and the connection closes.
  svr.set_error_handler(httplib::Server::HandlerWithResponse{[x](const Request& req, Response& res) {
    auto* st = current_request();
    if (st && st->answered)
      return handled::Unhandled; // our own answer, whatever its status
    sanitize_request(writable(req));
    // A head the stream refused itself (431, 408) was answered there; the library saw a failed read.
    auto status = st && st->refused_status ? st->refused_status : res.status;
    auto e = error_of_library_status(status);
    res.headers.clear();
    send_error(res, e, lang_of_path(req.path), true);
    if (status == 414 || status == 431 || status == 408)
      res.status = status;
    mark_answered();
    count_unrouted(*x, "refused", req, res);
    return handled::Handled;
  }});

  // Runs last, on every response the library writes: the framing is the body's own.
  svr.set_post_routing_handler([](const Request& req, Response& res) {
    auto* st = current_request();
    if (st && st->head_method && req.method != "HEAD")
      writable(req).method = "HEAD"; // a line the library could not parse: still no body for a HEAD
    // The library also ends HTTP/1.0 connections unless they ask exactly `Connection: Keep-Alive`
    // (its own test, case-sensitive): say so.
    auto conn = req.headers.equal_range("Connection"); // one lookup for both tests below
    bool http10_close = req.version == "HTTP/1.0" && (conn.first == conn.second || conn.first->second != "Keep-Alive");
    bool close = (st && st->close) || http10_close || asks_close(conn);
    if (close && st)
      st->close = true;
    // One pass over the few headers set so far, dropping those whose framing is ours to write.
    for (auto it = res.headers.begin(); it != res.headers.end();) {
      if (framed_by_us(it->first) || (close && (iequals(it->first, "Keep-Alive"sv) || iequals(it->first, "Connection"sv))))
        it = res.headers.erase(it);
      else
        ++it;
    }
    if (close)
      res.headers.emplace("Connection", "close");
    res.headers.emplace("Date", http_date_now());
    // A shared body (a cached page) is sent by the connection loop after the head, unless the
    // answer was replaced meanwhile or is to a HEAD.
    std::size_t length = res.body.size();
    if (st && st->shared_body) {
      if (res.body.empty() && res.status == 200) {
        length = st->shared_body->size();
        st->send_shared = req.method != "HEAD";
      } else {
        st->shared_body.reset();
      }
    }
    if (res.status != 204 && res.status != 304 && res.status >= 200)
      res.set_header("Content-Length", std::to_string(length));
  });
}

} // namespace booking
