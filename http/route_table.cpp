#include "http/route_table.hpp"

#include <stdexcept>

#include "model/labels.hpp"

namespace booking {

namespace {

/// The segments of `path` after its leading slash, without allocating: a request's path is split
/// on every request.
path_segments split(std::string_view path) {
  path_segments parts;
  if (path.empty() || path[0] != '/')
    return parts;
  std::size_t start = 1;
  for (;;) {
    auto slash = path.find('/', start);
    if (parts.size == parts.part.size()) {
      parts.too_many = true;
      return parts;
    }
    parts.part[parts.size++] =
      path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (slash == std::string_view::npos)
      break;
    start = slash + 1;
  }
  return parts;
}

constexpr const char* method_order[] = {"GET", "POST", "PATCH"};

/// `Allow` for the methods present (GET brings HEAD; OPTIONS always), one static text per set.
std::string_view allow_header(const bool (&has)[3]) {
  static const char* const texts[8] = {
    "OPTIONS",                          // none
    "GET, HEAD, OPTIONS",               // GET
    "POST, OPTIONS",                    // POST
    "GET, HEAD, POST, OPTIONS",         // GET POST
    "PATCH, OPTIONS",                   // PATCH
    "GET, HEAD, PATCH, OPTIONS",        // GET PATCH
    "POST, PATCH, OPTIONS",             // POST PATCH
    "GET, HEAD, POST, PATCH, OPTIONS"}; // all
  return texts[(has[0] ? 1 : 0) | (has[1] ? 2 : 0) | (has[2] ? 4 : 0)];
}

} // namespace

void route_table::add(const char* method, const char* pattern, bool api, route_fn fn) {
  route r{method, pattern, api, fn, {}};
  auto parts = split(pattern);
  if (parts.too_many || parts.size == 0)
    throw std::logic_error(std::string("route pattern with no or too many segments: ") + pattern);
  for (std::size_t i = 0; i < parts.size; ++i) {
    auto text = parts.part[i];
    auto kind = text == "{lang}" ? route::segment_kind::lang
                : !text.empty() && text.front() == '{' ? route::segment_kind::param
                                                       : route::segment_kind::literal;
    r.segments.push_back({std::string(text), kind});
  }
  by_length_[r.segments.size()].push_back(routes_.size());
  routes_.push_back(std::move(r));
}

bool route_table::matches(const route& r, const path_segments& parts, std::optional<lang> first_lang,
                          route_match& m) const {
  if (parts.size != r.segments.size())
    return false;
  std::size_t param = 0;
  for (std::size_t i = 0; i < parts.size; ++i) {
    const auto& seg = r.segments[i];
    auto part = parts.part[i];
    switch (seg.kind) {
    case route::segment_kind::lang: {
      auto l = i == 0 ? first_lang : parse_lang(part);
      if (!l)
        return false;
      m.language = *l;
      break;
    }
    case route::segment_kind::param:
      if (part.empty() || param == m.params.size())
        return false;
      m.params[param++] = part;
      break;
    case route::segment_kind::literal:
      if (std::string_view{seg.text} != part)
        return false;
      break;
    }
  }
  return true;
}

route_match route_table::match(std::string_view method, std::string_view path) const {
  route_match m;
  auto parts = split(path);
  if (parts.size == 0 || parts.too_many)
    return m;
  auto wanted = method == "HEAD" ? std::string_view{"GET"} : method;
  auto first_lang = parse_lang(parts.part[0]);
  bool has[3] = {false, false, false};
  for (auto index : by_length_[parts.size]) {
    const auto& r = routes_[index];
    route_match probe;
    if (!matches(r, parts, first_lang, probe))
      continue;
    if (!m.path_known()) {
      m.language = probe.language; // the path's language, also for 405
      m.any = &r;
    }
    for (int i = 0; i < 3; ++i)
      if (r.method == method_order[i])
        has[i] = true;
    if (!m.r && r.method == wanted) {
      probe.r = &r;
      m.r = probe.r;
      m.language = probe.language;
      m.params = probe.params;
    }
  }
  if (!m.path_known())
    return m;
  m.allow = allow_header(has);
  return m;
}

std::string route_table::redacted_path(std::string_view path) const {
  auto literal = [&](std::string_view seg) {
    for (auto& r : routes_)
      for (auto& x : r.segments)
        if (x.kind == route::segment_kind::literal && x.text == seg)
          return true;
    return false;
  };
  auto number = [](std::string_view seg) {
    return !seg.empty() && seg.size() <= 19 && seg.find_first_not_of("0123456789") == std::string_view::npos;
  };
  std::string out;
  out.reserve(path.size());
  std::size_t i = 0;
  while (i <= path.size()) {
    auto slash = path.find('/', i);
    auto seg = path.substr(i, slash == std::string_view::npos ? std::string_view::npos : slash - i);
    if (seg.empty() || number(seg) || parse_lang(seg) || literal(seg))
      out.append(seg);
    else
      out.append("REDACTED");
    if (slash == std::string_view::npos)
      break;
    out += '/';
    i = slash + 1;
  }
  return out;
}

std::string route_table::all_methods() const {
  bool has[3] = {false, false, false};
  for (const auto& r : routes_)
    for (int i = 0; i < 3; ++i)
      if (r.method == method_order[i])
        has[i] = true;
  return std::string{allow_header(has)};
}

} // namespace booking
