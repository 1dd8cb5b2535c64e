// JSON shapes of SPEC §4, written with the streaming writer (model/json_writer.hpp): no document
// tree per response. Keys are written in sorted order, so bodies are byte for byte what
// nlohmann::json would dump for the same document.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "model/json_writer.hpp"
#include "model/time_zone.hpp"
#include "model/types.hpp"

namespace booking {

void write_location(json_writer& w, const location& l);
/// An array of locations.
void write_locations(json_writer& w, const std::vector<location>& ls);
void write_session_view(json_writer& w, const session_view& s, const zone& z);
/// The booking object of the page; `with_reason` adds `leave_reason` (write responses).
void write_booking(json_writer& w, const booking& b, const zone& z, lang l, instant now, bool with_reason = false);
void write_stats(json_writer& w, const stats& s);
/// The waitlist entry of SPEC §4: `state` (`waiting` | `expired`) and `position` are null unless the entry is
/// `waiting`; `cutoff` is the service's waitlist cut-off.
void write_entry(json_writer& w, const waitlist_entry& e, const zone& z, lang l, instant now, std::chrono::seconds cutoff);

/// Whole bodies.
std::string booking_body(const booking& b, const zone& z, lang l, instant now, bool with_reason = false);
std::string entry_body(const waitlist_entry& e, const zone& z, lang l, instant now, std::chrono::seconds cutoff);
/// `{"locations": [...]}`.
std::string locations_body(const std::vector<location>& ls);
/// `{"sessions": [...]}`.
std::string sessions_body(const std::vector<session_view>& ss, const zone& z);
/// `{"error": {"code", "message"}}` in the request's language.
std::string error_body(error_code e, lang l);

} // namespace booking
