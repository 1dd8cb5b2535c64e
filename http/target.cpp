#include "http/target.hpp"

namespace booking {

namespace {

/// The length of an `http://` or `https://` prefix (any case), or 0.
std::size_t absolute_scheme(std::string_view target) {
  for (std::string_view scheme : {"http://", "https://"})
    if (target.size() >= scheme.size() && iequals(target.substr(0, scheme.size()), scheme))
      return scheme.size();
  return 0;
}

} // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  if (a == b) // most names arrive as they are written (the library adds its own exactly so)
    return true;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z')
      x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z')
      y = static_cast<char>(y - 'A' + 'a');
    if (x != y)
      return false;
  }
  return true;
}

std::string_view after_authority(std::string_view target) {
  auto scheme = absolute_scheme(target);
  if (scheme == 0)
    return target;
  auto rest = target.find_first_of("/?#", scheme); // the authority ends at the path or the query
  return rest == std::string_view::npos ? std::string_view{} : target.substr(rest);
}

void to_origin_form(std::string& target) {
  if (absolute_scheme(target) == 0)
    return; // the common case: nothing copied
  auto rest = after_authority(target);
  target = rest.empty() || rest.front() != '/' ? "/" + std::string(rest) : std::string(rest);
}

std::string origin_form(std::string target) {
  to_origin_form(target);
  return target;
}

lang lang_of_path(std::string_view path) {
  return path.substr(0, 7) == "/zh-tw/" ? lang::zh_tw : lang::en;
}

} // namespace booking
