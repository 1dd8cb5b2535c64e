#include "http/idempotency.hpp"

#include "http/connection.hpp"
#include "http/guard.hpp"
#include "model/token_hash.hpp"

namespace booking {

idempotency_header idempotency_of(const httplib::Request& req, id_type acting_user) {
  idempotency_header h;
  // The key as sent (http/connection.hpp): the library percent-decodes values and drops empty ones.
  auto* st = current_request();
  bool raw = st && st->raw_headers;
  auto n = raw ? static_cast<std::size_t>(st->idempotency_headers) : req.get_header_value_count("Idempotency-Key");
  if (n == 0)
    return h;
  auto key = raw ? st->raw_idempotency_key : req.get_header_value("Idempotency-Key");
  bool visible = true; // 1..64 visible ASCII characters (0x21..0x7E)
  for (char c : key)
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e)
      visible = false;
  if (n > 1 || key.empty() || key.size() > 64 || !visible) {
    h.invalid = true;
    return h;
  }
  auto path = req.path;
  auto slash = path.find('/', 1);
  auto unprefixed = slash == std::string::npos ? path : path.substr(slash);
  auto fingerprint = req.method + ' ' + unprefixed + ' ' + std::to_string(acting_user) + '\n' + req.body;
  h.request = idempotency_request{key, sha256_hex(fingerprint)};
  return h;
}

} // namespace booking
