// JSON shapes of SPEC §4 with nlohmann/json.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/time_zone.hpp"
#include "model/types.hpp"

namespace booking {

nlohmann::json location_json(const location& l);
nlohmann::json locations_json(const std::vector<location>& ls);
nlohmann::json session_view_json(const session_view& s, const zone& z);
/// The booking object of the page; `with_reason` adds `leave_reason` (write responses).
nlohmann::json booking_json(const booking& b, const zone& z, lang l, instant now, bool with_reason = false);
nlohmann::json stats_json(const stats& s);
/// The waitlist entry of SPEC §4: `state` (`waiting` | `expired`) and `position` are null unless the entry is
/// `waiting`; `cutoff` is the service's waitlist cut-off.
nlohmann::json entry_json(const waitlist_entry& e, const zone& z, lang l, instant now, std::chrono::seconds cutoff);
/// `{"error": {"code", "message"}}` in the request's language.
std::string error_body(error_code e, lang l);

} // namespace booking
