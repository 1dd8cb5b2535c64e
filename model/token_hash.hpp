// SHA-256 of API tokens (OpenSSL); only the hash is ever stored.
#pragma once

#include <string>
#include <string_view>

namespace booking {

/// Lower-case hex SHA-256 of `text`.
std::string sha256_hex(std::string_view text);
/// Compares two equal-purpose secrets in time independent of where they differ.
bool constant_time_equal(std::string_view a, std::string_view b);

} // namespace booking
