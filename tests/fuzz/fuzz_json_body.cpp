// libFuzzer target: JSON request bodies as the write routes read them (depth guard first, then
// nlohmann/json without exceptions, then the fields and the leave reason).
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "http/guard.hpp"
#include "model/rules.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string body(reinterpret_cast<const char*>(data), size);
  if (booking::too_deep(body, 16))
    return 0; // refused before parsing: deep nesting never reaches the recursive parser
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return 0;
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
