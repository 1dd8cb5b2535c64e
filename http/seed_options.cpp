#include "http/seed_options.hpp"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string_view>

#include "model/time_zone.hpp"

namespace booking {

namespace {

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos)
    return {};
  return std::string(s.substr(b, s.find_last_not_of(" \t\r") - b + 1));
}

template <class T>
T whole_number(const std::string& what, const std::string& text, T least) {
  T v{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
    throw std::invalid_argument(what + " must be a whole number, not '" + text + "'");
  if (v < least)
    throw std::invalid_argument(what + " must be at least " + std::to_string(least));
  return v;
}

const char* const seed_keys[] = {"db", "users", "locations", "weeks", "random-seed", "timezone", "tokens-out"};

/// Sets one key; `what` names it in errors (`--users` or `seed.ini:3: users`). False for an unknown key.
bool set_key(seed_command_line& cl, const std::string& key, const std::string& value, const std::string& what) {
  auto& o = cl.options;
  if (key == "db")
    o.db_path = value;
  else if (key == "users")
    o.users = whole_number(what, value, 0);
  else if (key == "locations")
    o.locations = whole_number(what, value, 1);
  else if (key == "weeks")
    o.weeks = whole_number(what, value, 1);
  else if (key == "random-seed")
    o.random_seed = whole_number<std::uint64_t>(what, value, 0);
  else if (key == "timezone")
    o.timezone = value;
  else if (key == "tokens-out")
    cl.tokens_out = value;
  else
    return false;
  return true;
}

/// The `key = value` lines of a config file, with where each stands (`path:line`).
struct config_entry {
  std::string key, value, where;
};

std::vector<config_entry> read_config_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw std::invalid_argument("cannot read config file " + path + ": it is a directory");
  std::ifstream in{path};
  if (!in)
    throw std::invalid_argument("cannot read config file " + path);
  std::vector<config_entry> out;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    auto where = path + ":" + std::to_string(n);
    auto malformed = [&](const std::string& why) { return std::invalid_argument(where + ": " + why); };
    auto t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';')
      continue;
    if (t[0] == '[') {
      if (t == "[global]" || t == "[booking]")
        continue;
      throw malformed("only the [global] and [booking] sections are known, not " + t);
    }
    auto eq = t.find('=');
    if (eq == std::string::npos)
      throw malformed("expected key = value");
    auto key = trim(std::string_view{t}.substr(0, eq));
    if (key.empty() || key.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_.") != std::string::npos)
      throw malformed("expected key = value, with a key such as users or random-seed");
    auto rest = trim(std::string_view{t}.substr(eq + 1));
    std::string value;
    std::size_t after = 0; // where a comment may start
    if (!rest.empty() && rest[0] == '"') {
      std::size_t i = 1;
      for (; i < rest.size() && rest[i] != '"'; ++i) {
        if (rest[i] == '\\') {
          if (i + 1 >= rest.size() || (rest[i + 1] != '"' && rest[i + 1] != '\\'))
            throw malformed("only \\\" and \\\\ escapes are known in a quoted value");
          ++i;
        }
        value += rest[i];
      }
      if (i >= rest.size())
        throw malformed("a quoted value has no closing quote");
      after = i + 1;
    } else {
      after = std::min(rest.find_first_of("#;"), rest.size());
      value = trim(std::string_view{rest}.substr(0, after));
      if (value.empty())
        throw malformed("the key " + key + " has no value");
      if (value.find_first_of(" \t\"'") != std::string::npos)
        throw malformed("a text value with spaces or quotes must be written in double quotes");
    }
    auto tail = trim(std::string_view{rest}.substr(after));
    if (!tail.empty() && tail[0] != '#' && tail[0] != ';')
      throw malformed("unexpected text after the value: " + tail);
    out.push_back(config_entry{key, value, where});
  }
  if (in.bad())
    throw std::invalid_argument("cannot read config file " + path);
  return out;
}

} // namespace

seed_command_line parse_seed_command_line(const std::vector<std::string>& args) {
  seed_command_line cl;
  for (const auto& a : args)
    if (a == "-h" || a == "--help") {
      cl.help = true;
      return cl;
    }
  // The config files' keys first, in order, then the flags: a flag on the command line wins.
  std::vector<config_entry> entries;
  std::vector<config_entry> flags;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    std::string path;
    if (a.rfind("--config-file=", 0) == 0) {
      path = a.substr(14);
    } else if (a == "--config-file") {
      if (i + 1 == args.size())
        throw std::invalid_argument("--config-file needs a path: --config-file=PATH");
      path = args[++i];
    } else {
      auto eq = a.find('=');
      if (a.rfind("--", 0) != 0 || eq == std::string::npos || eq == 2)
        throw std::invalid_argument("unknown argument '" + a + "' (flags are written --key=value)");
      auto key = a.substr(2, eq - 2);
      if (std::find(std::begin(seed_keys), std::end(seed_keys), key) == std::end(seed_keys))
        throw std::invalid_argument("unknown argument '" + a + "'");
      flags.push_back(config_entry{key, a.substr(eq + 1), a.substr(0, eq)});
      continue;
    }
    if (path.empty())
      throw std::invalid_argument("--config-file needs a path: --config-file=PATH");
    auto file = read_config_file(path);
    entries.insert(entries.end(), file.begin(), file.end());
  }
  for (const auto& e : entries)
    if (!set_key(cl, e.key, e.value, e.where + ": " + e.key))
      throw std::invalid_argument(e.where + ": unknown key '" + e.key + "'");
  for (const auto& f : flags)
    set_key(cl, f.key, f.value, f.where);
  if (cl.options.db_path.empty())
    throw std::invalid_argument("--db=PATH is required (or db = \"PATH\" in the config file)");
  try {
    zone known{cl.options.timezone};
  } catch (const std::exception&) {
    throw std::invalid_argument("unknown time zone '" + cl.options.timezone + "' (an IANA name such as Asia/Taipei)");
  }
  if (cl.tokens_out.empty())
    cl.tokens_out = cl.options.db_path + ".tokens.csv";
  return cl;
}

} // namespace booking
