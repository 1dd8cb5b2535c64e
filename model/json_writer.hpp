// A streaming JSON writer: appends straight to one string, no document tree. Output is what
// nlohmann::json's dump() gives for the same document (no whitespace, its string escapes, UTF-8
// kept as is) as long as callers write object keys in sorted order, as nlohmann's std::map does;
// tests check pages and bodies against a parse-and-dump round trip. Invalid UTF-8 in a string is
// written as U+FFFD (nlohmann's `replace` error handler), never passed through.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "model/time_zone.hpp"

namespace booking {

class json_writer {
public:
  explicit json_writer(std::string& out) : out_(out) {}

  json_writer& begin_object() { return open('{'); }
  json_writer& end_object() { return close('}'); }
  json_writer& begin_array() { return open('['); }
  json_writer& end_array() { return close(']'); }

  /// A key of the current object; the next call writes its value.
  json_writer& key(std::string_view k) {
    separate();
    out_ += '"';
    out_.append(k.data(), k.size()); // keys are the service's own ASCII names
    out_ += "\":";
    after_key_ = true;
    return *this;
  }

  json_writer& value(std::string_view s) {
    separate();
    escaped(s);
    return *this;
  }
  json_writer& value(const char* s) { return value(std::string_view{s}); }
  json_writer& value(const std::string& s) { return value(std::string_view{s}); }
  json_writer& value(bool b) {
    separate();
    out_ += b ? "true" : "false";
    return *this;
  }
  json_writer& value(std::int64_t v) {
    separate();
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, static_cast<std::size_t>(r.ptr - buf));
    return *this;
  }
  json_writer& value(int v) { return value(static_cast<std::int64_t>(v)); }
  json_writer& null() {
    separate();
    out_ += "null";
    return *this;
  }
  /// A string, or null when empty.
  json_writer& value_or_null(std::string_view s) { return s.empty() ? null() : value(s); }
  /// An instant as RFC 3339 in `z` (a JSON string).
  json_writer& time(const zone& z, instant t) {
    separate();
    char buf[34];
    buf[0] = '"';
    auto n = z.format_to(t, buf + 1);
    buf[n + 1] = '"';
    out_.append(buf, n + 2);
    return *this;
  }
  json_writer& date(local_date d) {
    separate();
    char buf[16];
    buf[0] = '"';
    auto n = format_date_to(d, buf + 1);
    buf[n + 1] = '"';
    out_.append(buf, n + 2);
    return *this;
  }

  /// `s` as a JSON string with nlohmann's escapes.
  static void escape(std::string& out, std::string_view s);

private:
  json_writer& open(char c) {
    separate();
    out_ += c;
    first_ = true;
    return *this;
  }
  json_writer& close(char c) {
    out_ += c;
    first_ = false;
    return *this;
  }
  /// A comma before every element but the first of its container, and none after a key.
  void separate() {
    if (after_key_)
      after_key_ = false;
    else if (!first_)
      out_ += ',';
    first_ = false;
  }
  void escaped(std::string_view s) { escape(out_, s); }

  std::string& out_;
  bool first_ = true;
  bool after_key_ = false;
};

} // namespace booking
