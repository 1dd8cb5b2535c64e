#include "http/server_span.hpp"

#include "http/connection.hpp"

#include <algorithm>
#include <iterator>
#include <string>
#include <string_view>

namespace booking {

namespace {

/// The query as received, with the value of every parameter the API does not take replaced by
/// `REDACTED` (OpenTelemetry's convention for `url.query`): a client that puts a token, an email or a
/// signature in a URL does not see it copied into spans that ops endpoints serve. A name is kept
/// only if it looks like one (at most 32 letters, digits, `_`, `-`, `.`); a part without `=` that
/// is not one of the API's names is replaced whole: either could be the secret itself.
std::string redacted_query(std::string_view q) {
  static const std::string_view known[] = {"from", "to", "user_id", "limit", "before", "location_id"};
  auto is_known = [](std::string_view n) { return std::find(std::begin(known), std::end(known), n) != std::end(known); };
  auto name_like = [](std::string_view n) {
    return !n.empty() && n.size() <= 32 &&
           std::all_of(n.begin(), n.end(), [](char c) {
             return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-' || c == '.';
           });
  };
  std::string out;
  for (;;) {
    auto amp = q.find('&');
    auto part = q.substr(0, amp);
    auto eq = part.find('=');
    auto name = part.substr(0, eq);
    if (is_known(name))
      out.append(part);
    else if (eq == std::string_view::npos)
      out.append(part.empty() ? "" : "REDACTED");
    else
      out.append(name_like(name) ? std::string(name) + "=REDACTED" : "REDACTED=REDACTED");
    if (amp == std::string_view::npos)
      return out;
    out += '&';
    q.remove_prefix(amp + 1);
  }
}

} // namespace

child_span server_span(tracer& t, const route_table& routes, const httplib::Request& req, const char* route,
                       const trace_context& self, const std::optional<trace_context>& remote_parent,
                       std::int64_t start_ns) {
  // A method that is not one of HTTP's own (a made-up token, or none: a head refused before its
  // request line was read) is `_OTHER`, and the span is named "HTTP" (OpenTelemetry's HTTP conventions).
  auto* method = standard_method(req.method);
  auto s = child_span::with_context(&t, std::string(method ? method : "HTTP") + " " + route, self,
                                    remote_parent, span_kind::server, start_ns);
  if (!s)
    return s;
  s.set("http.request.method", method ? method : "_OTHER");
  if (auto* st = current_request(); st && st->other_method)
    s.set("http.request.method_original", st->original_method);
  s.set("http.route", route).set("url.path", routes.redacted_path(req.path)).set("url.scheme", "http");
  auto q = req.target.find('?');
  if (q != std::string::npos && q + 1 < req.target.size())
    s.set("url.query", redacted_query(std::string_view{req.target}.substr(q + 1)));
  auto v = std::string_view{req.version};
  if (v.rfind("HTTP/", 0) == 0)
    s.set("network.protocol.version", v.substr(5));
  // server.*: the Host the client addressed, else the local socket.
  std::string host = req.get_header_value("Host");
  int port = req.local_port;
  auto colon = host.rfind(':');
  if (colon != std::string::npos && host.find(']', colon) == std::string::npos) {
    auto p = host.substr(colon + 1);
    if (!p.empty() && p.size() <= 5 && p.find_first_not_of("0123456789") == std::string::npos) {
      auto n = std::stoi(p);
      if (n <= 65535)
        port = n;
    }
    host.resize(colon);
  }
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') // an IPv6 literal: the address alone
    host = host.substr(1, host.size() - 2);
  s.set("server.address", host.empty() ? req.local_addr : host);
  if (port > 0)
    s.set("server.port", port);
  if (!req.remote_addr.empty())
    s.set("client.address", req.remote_addr);
  if (req.has_header("User-Agent"))
    s.set("user_agent.original", req.get_header_value("User-Agent"));
  return s;
}

void set_response(child_span& s, int status) {
  s.set("http.response.status_code", status);
  if (status >= 500)
    s.fail(std::to_string(status));
}

} // namespace booking
