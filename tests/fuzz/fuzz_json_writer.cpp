// libFuzzer target: the streaming JSON writer's string escapes. Any bytes must come out as a JSON
// string nlohmann parses; valid UTF-8 must come back unchanged and be written exactly as
// nlohmann's own dump writes it; invalid UTF-8 must never reach the output.
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "model/json_writer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  std::string out;
  booking::json_writer::escape(out, in);
  nlohmann::json parsed;
  try {
    parsed = nlohmann::json::parse(out); // throws on a bad escape or on invalid UTF-8
  } catch (const std::exception&) {
    std::abort();
  }
  if (!parsed.is_string())
    std::abort();
  std::string dumped;
  bool valid = true;
  try {
    dumped = nlohmann::json(in).dump();
  } catch (const std::exception&) {
    valid = false; // nlohmann refuses invalid UTF-8; the writer replaced it
  }
  if (valid && (parsed.get<std::string>() != in || dumped != out))
    std::abort();
  return 0;
}
