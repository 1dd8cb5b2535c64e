// The one logger: logfmt lines on standard error, `ts=` (RFC 3339 UTC, milliseconds) first, then
// `level=` and `msg=`, values quoted and escaped when they need it, each line written whole by one
// write(2) under a lock (lines never interleave), and the `trace_id` of the current request
// (trace_scope) on every line written inside one.
//
//   log_info("listening").kv("address", url);     // written when the statement ends
//
// Never pass tokens, emails or request bodies.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace booking {

enum class log_level { debug, info, warn, error };

class log_line {
public:
  log_line(log_level level, std::string_view msg);
  ~log_line();
  log_line(const log_line&) = delete;
  log_line& operator=(const log_line&) = delete;

  log_line& kv(std::string_view key, std::string_view value);
  log_line& kv(std::string_view key, const std::string& value) { return kv(key, std::string_view{value}); }
  log_line& kv(std::string_view key, const char* value) { return kv(key, std::string_view{value ? value : ""}); }
  log_line& kv(std::string_view key, bool value) { return raw(key, value ? "true" : "false"); }
  log_line& kv(std::string_view key, double value);
  template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  log_line& kv(std::string_view key, T value) {
    return raw(key, std::to_string(value));
  }

  /// Appends pairs already in logfmt (each value escaped with `logfmt_value`).
  log_line& fields(std::string_view logfmt_pairs);

private:
  log_line& raw(std::string_view key, std::string_view value);
  std::string buf_;
  bool has_trace_ = false;
};

inline log_line log_debug(std::string_view msg) { return log_line{log_level::debug, msg}; }
inline log_line log_info(std::string_view msg) { return log_line{log_level::info, msg}; }
inline log_line log_warn(std::string_view msg) { return log_line{log_level::warn, msg}; }
inline log_line log_error(std::string_view msg) { return log_line{log_level::error, msg}; }

/// A logfmt value: as is when it is plain, else quoted with `\"`, `\\`, `\n`, `\r`, `\t` and
/// `\u00XX` escapes (empty values are `""`).
std::string logfmt_value(std::string_view v);
/// RFC 3339 UTC with milliseconds, e.g. 2026-11-25T23:19:17.123Z.
std::string rfc3339_millis_now();

} // namespace booking
