// libFuzzer target: the request router's own code on arbitrary requests — the pre-routing guard,
// route patterns and their captures, ids, languages, bearer headers and idempotency keys.
#include <cstdint>
#include <cstdlib>
#include <regex>
#include <sstream>
#include <string>

#include <httplib.h>

#include "http/auth.hpp"
#include "http/guard.hpp"
#include "http/idempotency.hpp"
#include "model/labels.hpp"

namespace {

const std::regex& routes(std::size_t i) {
  static const std::regex r[] = {
    std::regex(R"(/([^/]+)/v2/training/booking)"), std::regex(R"(/([^/]+)/v2/training/sessions)"),
    std::regex(R"(/([^/]+)/v2/training/locations)"), std::regex(R"(/([^/]+)/v2/training/bookings)"),
    std::regex(R"(/([^/]+)/v2/training/bookings/([^/]+)/cancel)"),
    std::regex(R"(/([^/]+)/v2/training/bookings/([^/]+)/leave)")};
  return r[i];
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
  (void) booking::guard_request(req, 16 * 1024);
  (void) booking::lang_of_path(req.path);
  for (std::size_t i = 0; i < 6; ++i) {
    std::smatch m;
    if (!std::regex_match(req.path, m, routes(i)))
      continue;
    (void) booking::parse_lang(m[1].str());
    if (m.size() > 2)
      if (auto id = booking::parse_id(m[2].str()); id && *id <= 0)
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
