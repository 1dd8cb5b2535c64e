// The one place that maps errors to HTTP status codes and JSON error bodies.
#pragma once

#include <memory>
#include <string>

#include <httplib.h>

#include "model/types.hpp"

namespace booking {

int status_of(error_code e);
/// Writes `{"error": {...}}` with the right status; refusals before routing also close the connection.
void send_error(httplib::Response& res, error_code e, lang l, bool close_connection = false);
/// Sends the response already in `res`, then closes the connection.
void close_after(httplib::Response& res);
void send_json(httplib::Response& res, int status, const std::string& body);
/// The same with a body that stays shared (a cached page): inside the edge's connection loop it is
/// sent from the shared string after the head, without a copy into the response.
void send_json(httplib::Response& res, int status, std::shared_ptr<const std::string> body);

} // namespace booking
