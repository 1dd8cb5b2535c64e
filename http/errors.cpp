#include "http/errors.hpp"

#include "http/connection.hpp"
#include "model/json.hpp"

namespace booking {

int status_of(error_code e) {
  switch (e) {
    case error_code::none: return 200;
    case error_code::invalid_request: return 400;
    case error_code::unauthorized: return 401;
    case error_code::forbidden: return 403;
    case error_code::not_found: return 404;
    case error_code::method_not_allowed: return 405;
    case error_code::session_full:
    case error_code::already_booked:
    case error_code::session_closed:
    case error_code::insufficient_credits:
    case error_code::insufficient_leave_quota:
    case error_code::not_cancellable:
    case error_code::already_waitlisted:
    case error_code::session_has_space:
    case error_code::waitlist_full:
    case error_code::not_withdrawable:
    case error_code::capacity_below_booked:
    case error_code::email_taken: return 409;
    case error_code::length_required: return 411;
    case error_code::payload_too_large: return 413;
    case error_code::idempotency_mismatch: return 422;
    case error_code::rate_limited: return 429;
    case error_code::overloaded:
    case error_code::unavailable: return 503;
    case error_code::internal: return 500;
  }
  return 500;
}

void send_json(httplib::Response& res, int status, const std::string& body) {
  if (auto* st = current_request())
    st->shared_body.reset(); // this answer replaces one that shared a cached body
  res.status = status;
  res.set_content(body, "application/json; charset=utf-8");
}

void send_json(httplib::Response& res, int status, std::shared_ptr<const std::string> body) {
  auto* st = current_request();
  if (!st || !body)
    return send_json(res, status, body ? *body : std::string{});
  res.status = status;
  res.body.clear();
  res.headers.emplace("Content-Type", "application/json; charset=utf-8");
  st->shared_body = std::move(body);
}

void send_error(httplib::Response& res, error_code e, lang l, bool close_connection) {
  send_json(res, status_of(e), error_body(e, l));
  if (e == error_code::unauthorized)
    res.set_header("WWW-Authenticate", "Bearer");
  if (e == error_code::overloaded || e == error_code::unavailable)
    res.set_header("Retry-After", "1");
  if (close_connection)
    close_after(res);
}

void close_after(httplib::Response&) {
  // The edge's connection loop ends the connection after this answer, and the post-routing step
  // writes `Connection: close` without `Keep-Alive` (http/edge.cpp). Unread request bytes die with it.
  if (auto* st = current_request())
    st->close = true;
}

} // namespace booking
