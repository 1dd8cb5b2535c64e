#include "model/json_writer.hpp"

namespace booking {

namespace {

/// Length of the valid UTF-8 sequence at `s[i]` (lead byte >= 0x80), or 0 when it is invalid
/// (bad lead, missing or bad continuation, overlong form, surrogate, above U+10FFFF).
std::size_t utf8_length(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  auto cont = [&](std::size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
  unsigned char c = b(0);
  if (c >= 0xC2 && c <= 0xDF)
    return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2))
      return 0;
    if ((c == 0xE0 && b(1) < 0xA0) || (c == 0xED && b(1) > 0x9F))
      return 0; // overlong, or a UTF-16 surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3))
      return 0;
    if ((c == 0xF0 && b(1) < 0x90) || (c == 0xF4 && b(1) > 0x8F))
      return 0; // overlong, or above U+10FFFF
    return 4;
  }
  return 0;
}

} // namespace

void json_writer::escape(std::string& out, std::string_view s) {
  static const char hex[] = "0123456789abcdef";
  out += '"';
  std::size_t i = 0, plain = 0; // s[plain, i) is waiting to be copied unchanged
  auto flush = [&] { out.append(s.data() + plain, i - plain); };
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      if (auto n = utf8_length(s, i)) {
        i += n;
        continue;
      }
      flush();
      out += "\xEF\xBF\xBD"; // U+FFFD REPLACEMENT CHARACTER
      plain = ++i;
      continue;
    }
    flush();
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 0xF];
    }
    plain = ++i;
  }
  flush();
  out += '"';
}

} // namespace booking
