#include "telemetry/log.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "telemetry/trace_scope.hpp"

namespace booking {

namespace {

const char* name(log_level l) {
  switch (l) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warn: return "warn";
    case log_level::error: return "error";
  }
  return "info";
}

bool plain(std::string_view v) {
  if (v.empty())
    return false;
  for (unsigned char c : v)
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f)
      return false;
  return true;
}

void write_all(const std::string& line) {
  // One write(2) per line; the lock keeps a rare partial write from being interleaved with
  // another thread's line.
  static std::mutex m;
  std::lock_guard<std::mutex> g{m};
  const char* p = line.data();
  auto left = line.size();
  while (left > 0) {
    auto n = ::write(2, p, left);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

} // namespace

std::string logfmt_value(std::string_view v) {
  if (plain(v))
    return std::string(v);
  std::string out;
  out.reserve(v.size() + 2);
  out += '"';
  for (unsigned char c : v) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char hex[8];
          std::snprintf(hex, sizeof hex, "\\u%04x", c);
          out += hex;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

std::string rfc3339_millis_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  std::tm tm{};
  ::gmtime_r(&ts.tv_sec, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ts.tv_nsec / 1000000));
  return buf;
}

log_line::log_line(log_level level, std::string_view msg) {
  buf_.reserve(160);
  buf_ += "ts=";
  buf_ += rfc3339_millis_now();
  buf_ += " level=";
  buf_ += name(level);
  buf_ += " msg=";
  buf_ += logfmt_value(msg);
}

log_line::~log_line() {
  if (!has_trace_)
    if (auto& c = trace_scope::current(); c && !all_zero(c->trace))
      raw("trace_id", to_hex(c->trace));
  buf_ += '\n';
  write_all(buf_);
}

log_line& log_line::raw(std::string_view key, std::string_view value) {
  if (key == "trace_id")
    has_trace_ = true;
  buf_ += ' ';
  buf_ += key;
  buf_ += '=';
  buf_ += value;
  return *this;
}

log_line& log_line::fields(std::string_view pairs) {
  if (!pairs.empty()) {
    buf_ += ' ';
    buf_ += pairs;
  }
  return *this;
}

log_line& log_line::kv(std::string_view key, std::string_view value) { return raw(key, logfmt_value(value)); }

log_line& log_line::kv(std::string_view key, double value) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3f", value);
  return raw(key, b);
}

} // namespace booking
