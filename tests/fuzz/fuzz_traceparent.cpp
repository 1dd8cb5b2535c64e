// libFuzzer target: the W3C `traceparent` header and the sampler.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "telemetry/trace_context.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string h(reinterpret_cast<const char*>(data), size);
  auto c = booking::parse_traceparent(h);
  if (!c)
    return 0;
  if (!c->valid())
    std::abort(); // all-zero ids must never be accepted
  auto again = booking::parse_traceparent(booking::format_traceparent(*c));
  if (!again || again->trace != c->trace || again->span != c->span || again->sampled != c->sampled
      || again->random != c->random)
    std::abort();
  if (booking::sampled_by_ratio(c->trace, 0.05) != booking::sampled_by_ratio(c->trace, 0.05))
    std::abort();
  return 0;
}
