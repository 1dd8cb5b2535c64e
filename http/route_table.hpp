// The one table of routes (SPEC §4): dispatch, `405`/`Allow`, `OPTIONS`, the route label of metrics
// and spans, and the router fuzz target all read it. Patterns are written as their labels
// (`/{lang}/v2/training/bookings/{id}/cancel`): `{lang}` matches `en` or `zh-tw` only (any other
// language is no route: 404), any other `{name}` one non-empty path segment.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/types.hpp"

namespace booking {

struct route_context;
struct call;

using route_fn = void (*)(route_context&, call&);

struct route {
  std::string method; // GET, POST or PATCH; HEAD is served wherever GET is
  std::string label;  // the pattern, also the `route` label of metrics and the span name
  bool api = true;    // API routes: admission control and tracing; ops routes: neither
  route_fn fn = nullptr;
  /// The pattern's segments, each with its kind read once when the route is added (a request is
  /// matched against every route of its length, and the match is on every request's path).
  enum class segment_kind : unsigned char { literal, lang, param };
  struct segment {
    std::string text;
    segment_kind kind;
  };
  std::vector<segment> segments;
};

struct route_match {
  const route* r = nullptr; // the route for this method, if any
  const route* any = nullptr; // a route of this path, whatever its method: its label names the path
  /// Some route has this path (then `allow` lists its methods).
  bool path_known() const { return any != nullptr; }
  std::string_view allow;   // e.g. "GET, HEAD, OPTIONS" (static text)
  lang language = lang::en;
  std::array<std::string_view, 4> params{}; // the `{name}` segments after `{lang}`, in order
};

/// A path's segments, at most eight (no route has more: a longer path matches none).
struct path_segments {
  std::array<std::string_view, 8> part;
  std::size_t size = 0;
  bool too_many = false;
};

class route_table {
public:
  void add(const char* method, const char* pattern, bool api, route_fn fn);
  /// The route of `method` on `path` (HEAD as GET). `path` must outlive the params.
  route_match match(std::string_view method, std::string_view path) const;
  const std::vector<route>& routes() const { return routes_; }
  /// Every method any route accepts, with HEAD and OPTIONS (for `OPTIONS *`).
  std::string all_methods() const;
  /// `path` with every segment that is not a literal segment of some route, a language or a
  /// number replaced by `REDACTED`: the path a span keeps (a client may put a token or an email
  /// into a URL, and ops endpoints serve spans to anyone).
  std::string redacted_path(std::string_view path) const;

private:
  /// `first_lang`: the path's first segment read as a language, once for all routes.
  bool matches(const route& r, const path_segments& parts, std::optional<lang> first_lang, route_match& m) const;
  std::vector<route> routes_;
  /// The routes (indexes into `routes_`, in order) by their number of segments: a path is matched
  /// against the routes of its own length only.
  std::array<std::vector<std::size_t>, 9> by_length_;
};

/// The routes of the member API (http/api_routes.cpp) and the ops endpoints (http/ops_routes.cpp).
void add_api_routes(route_table& t);
void add_ops_routes(route_table& t);
/// The studio administration routes under `/{lang}/v2/admin/` (http/admin_routes.cpp).
void add_admin_routes(route_table& t);

} // namespace booking
