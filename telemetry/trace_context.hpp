// W3C Trace Context (version 00) and OpenTelemetry's ratio sampler: what travels with a request.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace booking {

using trace_id = std::array<std::uint8_t, 16>;
using span_id = std::array<std::uint8_t, 8>;

/// A trace, the span that is the parent of the next one, and the trace flags.
struct trace_context {
  trace_id trace{};
  span_id span{};
  bool sampled = false; // flag 0x01
  bool random = false;  // flag 0x02: the trace id's last 7 bytes are random (W3C Trace Context level 2)
  bool valid() const;
  /// The same trace with another span as the parent of what follows.
  trace_context with_span(const span_id& s) const {
    auto c = *this;
    c.span = s;
    return c;
  }
};

/// `traceparent`: nullopt when malformed or when either id is all zeros. Flags other than 0x01
/// and 0x02 are ignored (and not propagated), as the specification asks.
std::optional<trace_context> parse_traceparent(std::string_view header);
std::string format_traceparent(const trace_context& c);

std::string to_hex(const std::uint8_t* data, std::size_t n);
template <std::size_t N>
std::string to_hex(const std::array<std::uint8_t, N>& a) {
  return to_hex(a.data(), N);
}
template <std::size_t N>
bool all_zero(const std::array<std::uint8_t, N>& a) {
  for (auto b : a)
    if (b != 0)
      return false;
  return true;
}

/// OpenTelemetry's TraceIdRatioBased threshold rule on the last 7 bytes of the trace id:
/// sampled when R >= (1 - rate) * 2^56.
bool sampled_by_ratio(const trace_id& id, double rate);

/// Random ids from a per-thread generator (never all zeros).
trace_id random_trace_id();
span_id random_span_id();

/// Wall-clock nanoseconds since the Unix epoch (span timestamps).
std::int64_t unix_nanos();

} // namespace booking
