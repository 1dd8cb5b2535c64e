#include "http/principal.hpp"

#include <cstdint>
#include <limits>

#include "http/connection.hpp"
#include "http/errors.hpp"
#include "http/guard.hpp"
#include "model/rules.hpp"

namespace booking {

namespace {

constexpr int max_json_depth = 16;

} // namespace

std::optional<token_info> bearer_of(route_context& ctx, const httplib::Request& req) {
  // The header as sent (http/connection.hpp): the library's percent-decoded copy is not it.
  auto* st = current_request();
  bool raw = st && st->raw_headers;
  auto count = raw ? static_cast<std::size_t>(st->authorization_headers) : req.get_header_value_count("Authorization");
  if (count != 1)
    return std::nullopt;
  return ctx.auth.authenticate(raw ? st->raw_authorization : req.get_header_value("Authorization"));
}

std::optional<principal_info> authenticate(route_context& ctx, call& c) {
  auto who = bearer_of(ctx, c.req);
  if (!who) {
    send_error(c.res, error_code::unauthorized, c.language);
    return std::nullopt;
  }
  // The caller's own bucket: acting for someone else does not spend theirs.
  if (!ctx.limiter.allow(who->user_id)) {
    ctx.metrics.rejected("rate_limited");
    send_error(c.res, error_code::rate_limited, c.language);
    c.res.set_header("Retry-After", std::to_string(ctx.limiter.retry_after_seconds()));
    return std::nullopt;
  }
  principal_info p{who->user_id, who->r, who->user_id};
  if (!c.req.has_param("user_id"))
    return p;
  auto id = query_id(c.req, "user_id");
  if (!id) {
    send_error(c.res, error_code::invalid_request, c.language);
    return std::nullopt;
  }
  if (*id != who->user_id) {
    if (who->r != role::admin) {
      send_error(c.res, error_code::forbidden, c.language);
      return std::nullopt;
    }
    // Acting for a user that does not exist is a 404 on every route, not an empty answer.
    auto exists = traced_store_call(ctx, c, "find_user", [&] { return ctx.stores.borrow()->find_user(*id); });
    if (!exists) {
      send_error(c.res, error_code::not_found, c.language);
      return std::nullopt;
    }
  }
  p.subject = *id;
  return p;
}

std::optional<id_type> principal(route_context& ctx, call& c) {
  auto p = authenticate(ctx, c);
  if (!p)
    return std::nullopt;
  return p->subject;
}

std::optional<date_range> range_of(route_context& ctx, call& c) {
  std::optional<std::string> from, to;
  for (const char* k : {"from", "to"}) {
    auto n = query_count(c.req, k);
    if (n > 1) {
      send_error(c.res, error_code::invalid_request, c.language);
      return std::nullopt;
    }
    if (n == 1)
      (k[0] == 'f' ? from : to) = c.req.get_param_value(k);
  }
  auto& tz = ctx.actors.core().tz();
  auto r = resolve_range(from, to, tz.today(now_seconds()));
  if (!r.range)
    send_error(c.res, error_code::invalid_request, c.language);
  return r.range;
}

std::optional<nlohmann::json> parse_strict_json(const std::string& body) {
  using nlohmann::json;
  // nlohmann/json reads a NUL byte as the end of input: `{...}\0junk` would pass. No NUL at all.
  if (too_deep(body, max_json_depth) || body.find('\0') != std::string::npos)
    return std::nullopt;
  // The SAX-built DOM would keep the last of duplicate keys: refuse them instead, per object.
  bool duplicate = false;
  std::vector<std::vector<std::string>> keys; // the keys seen in each open object
  json::parser_callback_t cb = [&](int depth, json::parse_event_t event, json& parsed) {
    (void)depth;
    switch (event) {
      case json::parse_event_t::object_start: keys.emplace_back(); break;
      case json::parse_event_t::object_end:
        if (!keys.empty())
          keys.pop_back();
        break;
      case json::parse_event_t::key: {
        auto k = parsed.get<std::string>();
        auto& seen = keys.back();
        for (auto& s : seen)
          if (s == k)
            duplicate = true;
        seen.push_back(std::move(k));
        break;
      }
      default: break;
    }
    return true;
  };
  // strict: the whole input must be one JSON value (no trailing bytes, NUL or second document).
  auto j = json::parse(body.begin(), body.end(), cb, false, false);
  if (j.is_discarded() || duplicate)
    return std::nullopt;
  return j;
}

std::optional<id_type> body_id(const nlohmann::json& v) {
  if (!v.is_number_integer()
      || (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<id_type>::max())))
    return std::nullopt;
  auto n = v.get<std::int64_t>();
  if (n < 1)
    return std::nullopt;
  return n;
}

std::optional<nlohmann::json> body_object(call& c) {
  if (c.req.body.empty() && c.req.method != "PATCH") // a POST that needs no fields may come bare
    return nlohmann::json::object();
  auto j = parse_strict_json(c.req.body); // an empty PATCH names no change: not JSON, 400
  if (!j || !j->is_object()) {
    send_error(c.res, error_code::invalid_request, c.language, true);
    return std::nullopt;
  }
  return j;
}

} // namespace booking
