// booking-seed's command line and config file (SPEC §6: `--key=value` flags, the same keys from
// `--config-file=PATH`).
#pragma once

#include <string>
#include <vector>

#include "model/seed.hpp"

namespace booking {

/// booking-seed's command line (SPEC §6).
struct seed_command_line {
  seed_options options;
  std::string tokens_out; // defaults to `<db>.tokens.csv`
  bool help = false;      // -h or --help: nothing else is checked
};

/// Parses `--key=value` flags (db, users, locations, weeks, random-seed, timezone, tokens-out) and
/// `--config-file=PATH` (also `--config-file PATH`): a file of the same keys, one `key = value` a line,
/// strings in double quotes (`db = "/var/lib/x.db"`; `\"` and `\\` escapes) or bare, numbers bare
/// (`users = 12`), `#` or `;` comments (whole lines or after a value), blank lines, and optional
/// `[global]` / `[booking]` section lines, which change nothing. Flags on the command line override the
/// file, wherever they stand. Throws std::invalid_argument with the reason for an unknown argument or
/// key, a malformed line, an unreadable file, a bad number, an unknown time zone, or a missing `db`.
seed_command_line parse_seed_command_line(const std::vector<std::string>& args);

} // namespace booking
