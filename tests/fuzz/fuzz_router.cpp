// libFuzzer target: the request router's own code on arbitrary requests — the pre-routing guard,
// route patterns and their captures, ids, languages, bearer headers and idempotency keys.
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include <httplib.h>

#include "http/auth.hpp"
#include "http/guard.hpp"
#include "http/idempotency.hpp"
#include "http/route_table.hpp"
#include "model/labels.hpp"

namespace {

const booking::route_table& table() {
  static const booking::route_table t = [] {
    booking::route_table x;
    booking::add_api_routes(x);
    booking::add_ops_routes(x);
    booking::add_admin_routes(x);
    return x;
  }();
  return t;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096)
    return 0;
  std::string in(reinterpret_cast<const char*>(data), size);
  std::istringstream lines{in};
  httplib::Request req;
  std::string line;
  if (!std::getline(lines, line))
    return 0;
  auto sp = line.find(' ');
  req.method = line.substr(0, sp);
  req.path = sp == std::string::npos ? "/" : line.substr(sp + 1);
  while (std::getline(lines, line) && !line.empty()) {
    auto colon = line.find(':');
    if (colon != std::string::npos)
      req.headers.emplace(line.substr(0, colon), line.substr(colon + 1 + (colon + 1 < line.size() && line[colon + 1] == ' ')));
  }
  std::string rest((std::istreambuf_iterator<char>(lines)), std::istreambuf_iterator<char>());
  req.body = rest;
  (void) booking::guard_request(req, 16 * 1024, false);
  booking::sanitize_request(req);
  if (!req.ranges.empty())
    std::abort();
  (void) booking::lang_of_path(req.path);
  auto m = table().match(req.method, req.path);
  if (m.r && !m.path_known())
    std::abort();
  if (m.path_known() && m.allow.find("OPTIONS") == std::string::npos)
    std::abort();
  for (auto p : m.params) {
    if (p.data() && (p.data() < req.path.data() || p.data() + p.size() > req.path.data() + req.path.size()))
      std::abort(); // a parameter is a view into the path
    if (auto id = booking::parse_id(p); id && *id <= 0)
      std::abort();
  }
  auto idem = booking::idempotency_of(req, 1);
  if (idem.request && (idem.request->key.empty() || idem.request->key.size() > 64))
    std::abort();
  static booking::authenticator auth{[](const std::string&) { return std::optional<booking::token_info>{}; },
                                     std::chrono::seconds{60}, std::chrono::seconds{5}};
  if (auth.authenticate(req.get_header_value("Authorization")))
    std::abort(); // nothing is a valid token here
  return 0;
}
