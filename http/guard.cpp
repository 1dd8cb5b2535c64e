#include "http/guard.hpp"

#include "model/labels.hpp"

namespace booking {

error_code guard_request(const httplib::Request& req, std::size_t max_body_bytes) {
  if (req.has_header("Transfer-Encoding") || req.has_header("Content-Encoding") || req.has_header("Range"))
    return error_code::invalid_request;
  auto lengths = req.get_header_value_count("Content-Length");
  if (lengths > 1)
    return error_code::invalid_request;
  std::optional<std::size_t> length;
  if (lengths == 1) {
    auto v = req.get_header_value("Content-Length");
    if (v.empty() || v.size() > 12)
      return v.empty() ? error_code::invalid_request : error_code::payload_too_large;
    std::size_t n = 0;
    for (char c : v) {
      if (c < '0' || c > '9')
        return error_code::invalid_request;
      n = n * 10 + static_cast<std::size_t>(c - '0');
    }
    length = n;
  }
  bool has_body = length && *length > 0;
  if (req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
    if (!length)
      return error_code::length_required;
    if (*length > max_body_bytes)
      return error_code::payload_too_large;
  } else if (has_body) {
    return error_code::invalid_request; // a GET body would be read as the next request
  }
  return error_code::none;
}

bool too_deep(std::string_view body, int max_depth) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '{' || c == '[') {
      if (++depth > max_depth)
        return true;
    } else if (c == '}' || c == ']')
      --depth;
  }
  return false;
}

std::optional<id_type> parse_id(std::string_view s) {
  if (s.empty() || s.size() > 18 || s[0] == '0')
    return std::nullopt;
  id_type v = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

bool token_chars(std::string_view s) {
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'
              || c == '.' || c == '~' || c == '+' || c == '/' || c == '=' || c == ':';
    if (!ok)
      return false;
  }
  return true;
}

lang lang_of_path(const std::string& path) {
  return path.rfind("/zh-tw/", 0) == 0 ? lang::zh_tw : lang::en;
}

} // namespace booking
