// The server span of a request with the HTTP attributes of OpenTelemetry's semantic conventions,
// read from the request as received (SPEC §7).
#pragma once

#include <optional>

#include <httplib.h>

#include "http/route_table.hpp"
#include "telemetry/child_span.hpp"

namespace booking {

/// Starts the SERVER span `self` (child of the remote parent, if any) for `route`; records nothing
/// for an unsampled trace. `url.path` keeps the segments `routes` knows (`route_table::redacted_path`).
child_span server_span(tracer& t, const route_table& routes, const httplib::Request& req, const char* route,
                       const trace_context& self, const std::optional<trace_context>& remote_parent,
                       std::int64_t start_ns);
/// The response's status (and `error.type` on a 5xx).
void set_response(child_span& s, int status);

} // namespace booking
