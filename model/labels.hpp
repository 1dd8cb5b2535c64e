// Names of enums and the human text of states and errors in `en` and `zh-tw`.
#pragma once

#include <optional>
#include <string_view>

#include "model/types.hpp"

namespace booking {

std::optional<lang> parse_lang(std::string_view s);
const char* to_string(lang l);
const char* state_label(booking_state s, lang l);
const char* waitlist_state_label(waitlist_state s, lang l);
const char* error_message(error_code e, lang l);

} // namespace booking
