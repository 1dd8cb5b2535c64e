#include "telemetry/trace_context.hpp"

#include <chrono>
#include <random>

namespace booking {

namespace {

int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1; // upper case is not allowed by W3C Trace Context
}

template <std::size_t N>
bool parse_hex(std::string_view s, std::array<std::uint8_t, N>& out) {
  if (s.size() != 2 * N)
    return false;
  for (std::size_t i = 0; i < N; ++i) {
    int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return false;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
}

std::uint64_t random64() {
  thread_local std::mt19937_64 rng{std::random_device{}() ^ static_cast<std::uint64_t>(unix_nanos())};
  return rng();
}

template <std::size_t N>
void fill_random(std::array<std::uint8_t, N>& a) {
  do {
    for (std::size_t i = 0; i < N; i += 8) {
      auto r = random64();
      for (std::size_t k = 0; k < 8 && i + k < N; ++k)
        a[i + k] = static_cast<std::uint8_t>(r >> (8 * k));
    }
  } while (all_zero(a));
}

} // namespace

bool trace_context::valid() const { return !all_zero(trace) && !all_zero(span); }

std::optional<trace_context> parse_traceparent(std::string_view h) {
  // version "-" trace-id "-" parent-id "-" flags; version ff is invalid; 00 has exactly 55 chars.
  if (h.size() < 55 || h[2] != '-' || h[35] != '-' || h[52] != '-')
    return std::nullopt;
  std::array<std::uint8_t, 1> version{}, flags{};
  if (!parse_hex(h.substr(0, 2), version) || version[0] == 0xff)
    return std::nullopt;
  if (version[0] == 0 && h.size() != 55)
    return std::nullopt;
  if (h.size() > 55 && h[55] != '-')
    return std::nullopt;
  trace_context c;
  if (!parse_hex(h.substr(3, 32), c.trace) || !parse_hex(h.substr(36, 16), c.span)
      || !parse_hex(h.substr(53, 2), flags))
    return std::nullopt;
  if (!c.valid())
    return std::nullopt;
  c.sampled = (flags[0] & 0x01) != 0;
  c.random = (flags[0] & 0x02) != 0;
  return c;
}

namespace {

/// Lower-case hex of `n` bytes into `out` (2 × n characters).
void hex_into(char* out, const std::uint8_t* data, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 15];
  }
}

} // namespace

std::string to_hex(const std::uint8_t* data, std::size_t n) {
  std::string s(2 * n, '0');
  hex_into(s.data(), data, n);
  return s;
}

std::string format_traceparent(const trace_context& c) {
  // Written in place: one allocation for the 55 characters (it is on every response).
  std::string s = "00-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx-xxxxxxxxxxxxxxxx-0x";
  hex_into(s.data() + 3, c.trace.data(), c.trace.size());
  hex_into(s.data() + 36, c.span.data(), c.span.size());
  s[54] = "0123"[(c.sampled ? 1 : 0) | (c.random ? 2 : 0)];
  return s;
}

bool sampled_by_ratio(const trace_id& id, double rate) {
  if (rate <= 0)
    return false;
  if (rate >= 1)
    return true;
  std::uint64_t r = 0;
  for (std::size_t i = 9; i < 16; ++i)
    r = r << 8 | id[i];
  constexpr double two56 = 72057594037927936.0;
  auto threshold = static_cast<std::uint64_t>((1.0 - rate) * two56);
  return r >= threshold;
}

trace_id random_trace_id() {
  trace_id t;
  fill_random(t);
  return t;
}

span_id random_span_id() {
  span_id s;
  fill_random(s);
  return s;
}

std::int64_t unix_nanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace booking
