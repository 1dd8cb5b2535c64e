// Request targets as the edge reads them, shared by the connection stream (the language of its own
// refusals) and the guard (routing an absolute form as its path).
#pragma once

#include <string>
#include <string_view>

#include "model/types.hpp"

namespace booking {

/// ASCII case-insensitive equality (header names, options, URI schemes).
bool iequals(std::string_view a, std::string_view b);

/// What an `http://` or `https://` target (any case) names after its authority: `/path?q`, `?q`, or
/// "" when nothing follows; any other target as it is.
std::string_view after_authority(std::string_view target);

/// `http://host/path?q` → `/path?q` (http or https, any case), `http://host` → `/`,
/// `http://host?q` → `/?q`; any other target as it is. Copies nothing in the common case.
void to_origin_form(std::string& target);
std::string origin_form(std::string target);

/// The language a path names (`/zh-tw/...`); English otherwise.
lang lang_of_path(std::string_view path);

} // namespace booking
