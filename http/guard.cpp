#include "http/guard.hpp"

#include <limits>

#include "model/labels.hpp"

namespace booking {

namespace {

/// `host[:port]`: a reg-name or IPv4 address, or a bracketed IPv6 literal, and a decimal port.
bool valid_host(std::string_view h) {
  if (h.empty() || h.size() > 255)
    return false;
  std::string_view name = h, port;
  if (h.front() == '[') {
    auto close = h.find(']');
    if (close == std::string_view::npos || close == 1)
      return false;
    for (auto c : h.substr(1, close - 1))
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.'))
        return false;
    auto rest = h.substr(close + 1);
    if (!rest.empty() && rest.front() != ':')
      return false;
    port = rest.empty() ? rest : rest.substr(1);
    name = {};
  } else {
    auto colon = h.find(':');
    if (colon != std::string_view::npos) {
      name = h.substr(0, colon);
      port = h.substr(colon + 1);
      if (port.empty())
        return false;
    }
    if (name.empty())
      return false;
    for (auto c : name)
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
            || c == '_' || c == '~'))
        return false;
  }
  if (port.size() > 5)
    return false;
  for (auto c : port)
    if (c < '0' || c > '9')
      return false;
  return true;
}

} // namespace

bool asks_close(const httplib::Request& req) {
  return asks_close(req.headers.equal_range("Connection"));
}

bool asks_close(const header_lines& lines) {
  for (auto i = lines.first; i != lines.second; ++i) {
    std::string_view rest{i->second};
    for (;;) {
      auto comma = rest.find(',');
      auto option = rest.substr(0, comma);
      auto first = option.find_first_not_of(" \t"), last = option.find_last_not_of(" \t");
      if (first != std::string_view::npos && iequals(option.substr(first, last - first + 1), "close"))
        return true;
      if (comma == std::string_view::npos)
        break;
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

void sanitize_request(httplib::Request& req) {
  req.ranges.clear();
  req.headers.erase("Accept-Encoding");
  // RFC 9112 §3.2.2: a server accepts the absolute form (`GET http://host/path`, as a proxy
  // sends it). The library keeps the whole URI as the path; route what it names.
  to_origin_form(req.path);
  to_origin_form(req.target);
}

namespace {

/// The headers the guard looks at, counted in one pass over the request's headers (a lookup in the
/// library's case-insensitive map compares names a character at a time through `tolower`; a dozen
/// of them per request showed in the warm path's profile).
struct header_census {
  int forbidden = 0; // Transfer-Encoding, Content-Encoding, Range
  int own_addresses[4] = {}; // REMOTE_ADDR, REMOTE_PORT, LOCAL_ADDR, LOCAL_PORT
  int hosts = 0, expects = 0, lengths = 0;
  const std::string* host = nullptr;
  const std::string* expect = nullptr;
  const std::string* length = nullptr;
  bool control_bytes = false;
};

header_census census_of(const httplib::Headers& headers) {
  header_census c;
  for (const auto& [name, value] : headers) {
    for (char ch : value)
      if (ch == '\0' || ch == '\r' || ch == '\n')
        c.control_bytes = true;
    std::string_view n{name};
    switch (n.size()) {
    case 4:
      if (iequals(n, "Host"))
        ++c.hosts, c.host = &value;
      break;
    case 5:
      c.forbidden += iequals(n, "Range");
      break;
    case 6:
      if (iequals(n, "Expect"))
        ++c.expects, c.expect = &value;
      break;
    case 10:
      c.own_addresses[2] += iequals(n, "LOCAL_ADDR");
      c.own_addresses[3] += iequals(n, "LOCAL_PORT");
      break;
    case 11:
      c.own_addresses[0] += iequals(n, "REMOTE_ADDR");
      c.own_addresses[1] += iequals(n, "REMOTE_PORT");
      break;
    case 14:
      if (iequals(n, "Content-Length"))
        ++c.lengths, c.length = &value;
      break;
    case 16:
      c.forbidden += iequals(n, "Content-Encoding");
      break;
    case 17:
      c.forbidden += iequals(n, "Transfer-Encoding");
      break;
    default: break;
    }
  }
  return c;
}

} // namespace

guard_verdict guard_request(const httplib::Request& req, std::size_t max_body_bytes, bool head_malformed) {
  auto refuse = [](error_code e, int status = 0) { return guard_verdict{e, status}; };
  if (head_malformed)
    return refuse(error_code::invalid_request);
  auto c = census_of(req.headers);
  if (c.forbidden > 0)
    return refuse(error_code::invalid_request);
  // The library adds these from the socket; a client that sends its own would shadow them.
  for (int n : c.own_addresses)
    if (n > 1)
      return refuse(error_code::invalid_request);
  // Header values are percent-decoded by the library: a %00 or %0D%0A would arrive raw.
  if (c.control_bytes)
    return refuse(error_code::invalid_request);
  if (c.hosts > 1 || (req.version == "HTTP/1.1" && c.hosts != 1) || (c.hosts == 1 && !valid_host(*c.host)))
    return refuse(error_code::invalid_request);
  if (c.expects > 1 || (c.expects == 1 && !iequals(*c.expect, "100-continue")))
    return refuse(error_code::invalid_request, 417);
  if (c.lengths > 1)
    return refuse(error_code::invalid_request);
  std::optional<std::size_t> length;
  if (c.lengths == 1) {
    const auto& v = *c.length;
    if (v.empty() || v.size() > 12)
      return refuse(v.empty() ? error_code::invalid_request : error_code::payload_too_large);
    std::size_t n = 0;
    for (char ch : v) {
      if (ch < '0' || ch > '9')
        return refuse(error_code::invalid_request);
      n = n * 10 + static_cast<std::size_t>(ch - '0');
    }
    length = n;
  }
  bool has_body = length && *length > 0;
  // POST/PATCH without Content-Length: 411 on a route that takes a body, else 404/405 — the router
  // decides (http/edge.cpp), before any body is read, and the connection closes either way.
  if (req.method == "POST" || req.method == "PATCH") {
    if (length && *length > max_body_bytes)
      return refuse(error_code::payload_too_large);
  } else if (has_body && (req.method == "GET" || req.method == "HEAD")) {
    return refuse(error_code::invalid_request); // a GET body would be read as the next request
  } else if (has_body && *length > max_body_bytes) {
    return refuse(error_code::payload_too_large);
  }
  // Any other method with a body is answered by the router (405 or 404) and the connection closes
  // with its body unread.
  return {};
}

bool too_deep(std::string_view body, int max_depth) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '{' || c == '[') {
      if (++depth > max_depth)
        return true;
    } else if (c == '}' || c == ']')
      --depth;
  }
  return false;
}

std::optional<id_type> parse_id(std::string_view s) {
  // Digits only (no sign, no leading zero), and the value must fit: 9223372036854775807 is an id
  // that may not exist (404), 9223372036854775808 is not an id (400), as in a JSON body.
  if (s.empty() || s.size() > 19 || s[0] == '0')
    return std::nullopt;
  id_type v = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return std::nullopt;
    if (v > (std::numeric_limits<id_type>::max() - (c - '0')) / 10)
      return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::size_t query_count(const httplib::Request& req, std::string_view name) {
  std::string_view q{req.target};
  auto mark = q.find('?');
  if (mark == std::string_view::npos)
    return 0;
  q.remove_prefix(mark + 1);
  std::size_t n = 0;
  for (;;) {
    auto amp = q.find('&');
    auto part = q.substr(0, amp);
    auto raw = part.substr(0, part.find('='));
    // Names decoded as the library decodes them when it fills `params` (only when there is
    // something to decode: most queries are plain).
    bool plain = raw.find_first_of("%+") == std::string_view::npos;
    if (plain ? raw == name : httplib::detail::decode_url(std::string{raw}, true) == name)
      ++n;
    if (amp == std::string_view::npos)
      return n;
    q.remove_prefix(amp + 1);
  }
}

std::optional<id_type> query_id(const httplib::Request& req, const std::string& name) {
  return query_count(req, name) == 1 ? parse_id(req.get_param_value(name)) : std::nullopt;
}

bool token_chars(std::string_view s) {
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'
              || c == '.' || c == '~' || c == '+' || c == '/' || c == '=' || c == ':';
    if (!ok)
      return false;
  }
  return true;
}

} // namespace booking
