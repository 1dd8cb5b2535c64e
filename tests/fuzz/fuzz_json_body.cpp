// libFuzzer target: JSON request bodies as the write routes read them (the strict parser: depth
// guard, duplicate keys, trailing bytes), then the fields and the leave reason.
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "http/principal.hpp"
#include "model/rules.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string body(reinterpret_cast<const char*>(data), size);
  auto parsed = booking::parse_strict_json(body);
  if (!parsed || !parsed->is_object())
    return 0;
  auto& j = *parsed;
  auto sid = j.find("session_id");
  if (sid != j.end() && sid->is_number_integer())
    (void) sid->get<std::int64_t>();
  auto reason = j.find("reason");
  if (reason != j.end() && reason->is_string()) {
    auto& s = reason->get_ref<const std::string&>();
    if (booking::valid_reason(s) && s.size() > 4 * 500)
      std::abort(); // 500 code points are at most 2000 bytes
  }
  (void) j.dump(); // what a stored response would do
  return 0;
}
