// Hostile-input checks that run before any body is read (SPEC §4 "HTTP hardening"), and the
// small validators the routes share.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <httplib.h>

#include "http/target.hpp" // origin_form, lang_of_path, iequals
#include "model/types.hpp"

namespace booking {

/// A refusal before routing: the error, and the status when it is not the error's own (417).
struct guard_verdict {
  error_code code = error_code::none;
  int status = 0;
  explicit operator bool() const { return code != error_code::none; }
};

/// Refusal for a request whose head is in (before any body is read): none when it may proceed.
/// `head_malformed` is what the connection saw in the raw head (http/connection.hpp).
guard_verdict guard_request(const httplib::Request& req, std::size_t max_body_bytes, bool head_malformed);

/// Clears what cpp-httplib parsed that must never shape a response: byte ranges (the library
/// would range any answer, refusals included) and Accept-Encoding (it would compress bodies). An
/// absolute-form target (`http://host/path?q`) becomes its origin form (`/path?q`).
void sanitize_request(httplib::Request& req);

/// Whether the request's `Connection` options (a comma-separated, case-insensitive list over any
/// number of header lines, RFC 9110 §7.6.1) include `close`.
bool asks_close(const httplib::Request& req);
/// The same on the request's `Connection` lines, already looked up.
using header_lines = std::pair<httplib::Headers::const_iterator, httplib::Headers::const_iterator>;
bool asks_close(const header_lines& connection_lines);

/// JSON nesting deeper than `max_depth` (a linear scan that skips strings).
bool too_deep(std::string_view body, int max_depth);

/// A positive id in decimal digits, without a leading zero, at most 2^63 - 1.
std::optional<id_type> parse_id(std::string_view s);

/// How many times the request's query names `name` (decoded as the library decodes names). Routes use it, not `get_param_value_count`: cpp-httplib keeps one copy of a pair
/// that repeats exactly (`limit=5&limit=5`), so a parameter given twice with the same value would
/// look like one given once (docs/DESIGN.md, "Duplicate query parameters").
std::size_t query_count(const httplib::Request& req, std::string_view name);
/// The id (as `parse_id` reads one) of a query parameter given exactly once; nullopt otherwise.
std::optional<id_type> query_id(const httplib::Request& req, const std::string& name);

/// Header values are hostile bytes: a bearer token or idempotency key uses only this alphabet.
bool token_chars(std::string_view s);

} // namespace booking
