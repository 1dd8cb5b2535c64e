// Hostile-input checks that run before any body is read (SPEC §4 "HTTP hardening"), and the
// small validators the routes share.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <httplib.h>

#include "model/types.hpp"

namespace booking {

/// Refusal for a request whose headers are in: none when it may proceed.
error_code guard_request(const httplib::Request& req, std::size_t max_body_bytes);

/// JSON nesting deeper than `max_depth` (a linear scan that skips strings).
bool too_deep(std::string_view body, int max_depth);

/// A positive id written in at most 18 decimal digits.
std::optional<id_type> parse_id(std::string_view s);

/// Header values are hostile bytes: a bearer token or idempotency key uses only this alphabet.
bool token_chars(std::string_view s);

/// Language of the path prefix (`/en/...`, `/zh-tw/...`), defaulting to en for errors.
lang lang_of_path(const std::string& path);

} // namespace booking
