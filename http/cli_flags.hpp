// `--name=value` lookup for the small benchmark executables (booking-ceiling, booking-open-loop);
// booking-server itself uses CAF's configuration.
#pragma once

#include <string>

namespace booking {

inline std::string cli_flag(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--" + name + "=", 0) == 0)
      return a.substr(name.size() + 3);
  }
  return fallback;
}

} // namespace booking
