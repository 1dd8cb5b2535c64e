// Who is asking and for whom (SPEC §4 "Admins"), and the request inputs routes share: the date
// range of the query and the JSON object of a body. Each returns nullopt after answering the error.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "http/idempotency.hpp"
#include "http/middleware.hpp"

namespace booking {

struct principal_info {
  id_type caller = 0;  // the token's user
  role r = role::member;
  id_type subject = 0; // the user acted for (`?user_id=`, else the caller)
};

/// The principal of the request's one `Authorization` header (as sent), or nullopt: none, several,
/// malformed, unknown or revoked. Throws what the token lookup throws (a store failure).
std::optional<token_info> bearer_of(route_context& ctx, const httplib::Request& req);
/// Authenticates the bearer token, applies the caller's rate limit and resolves `?user_id=N`:
/// a member naming another user → 403; an admin naming a user that does not exist → 404.
std::optional<principal_info> authenticate(route_context& ctx, call& c);
/// The user acted for (shorthand of `authenticate` for routes that need no more).
std::optional<id_type> principal(route_context& ctx, call& c);

/// Answers a refusal of a write's own input (400 and the like). With an Idempotency-Key it is kept
/// and replayed like any other non-5xx answer (a different request with the key: 422).
void send_refusal(route_context& ctx, call& c, id_type user, const idempotency_header& idem, error_code e,
                  instant now);

/// `from`/`to` of the query, validated as SPEC §4 says.
std::optional<date_range> range_of(route_context& ctx, call& c);

/// The JSON object of a POST or PATCH body; an empty POST body is `{}`, an empty PATCH body is
/// refused (400). Deeply nested JSON, duplicate keys and anything after the value are refused.
std::optional<nlohmann::json> body_object(call& c);

/// An id in a JSON body: an integer from 1 to 2^63 - 1, as `parse_id` reads one in a path
/// (docs/DESIGN.md, "Ids").
std::optional<id_type> body_id(const nlohmann::json& v);

/// Parses a body as strict JSON (see `body_object`); nullopt when it is not acceptable.
std::optional<nlohmann::json> parse_strict_json(const std::string& body);

} // namespace booking
