// libFuzzer target: query dates and ranges (`from`/`to` of the booking page and sessions routes).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "model/time_zone.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  auto amp = in.find('&');
  std::optional<std::string> from, to;
  if (amp != std::string::npos) {
    from = in.substr(0, amp);
    to = in.substr(amp + 1);
  } else if (!in.empty()) {
    from = in;
  }
  if (auto d = booking::parse_date(in))
    if (booking::format_date(*d) != in)
      std::abort(); // a parsed date must print back as the same ten characters
  auto today = *booking::parse_date("2026-11-25");
  auto r = booking::resolve_range(from, to, today);
  if (r.range) {
    if (r.range->from > r.range->to || (r.range->to - r.range->from).count() > 91)
      std::abort();
    if (booking::monday_of(r.range->from) > r.range->from)
      std::abort();
  } else if (r.problem.empty()) {
    std::abort();
  }
  return 0;
}
