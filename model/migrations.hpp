// Versioned schema migrations, tracked in `PRAGMA user_version`.
#pragma once

#include "model/sqlite.hpp"

namespace booking {

/// The schema version this build writes.
int schema_version();
/// Applies every migration newer than the file's `user_version`, each in its own transaction.
/// Refuses a file written by a newer build.
/// Migrates to `target` (default: this build's version); tests pass an older one to build old files.
void migrate(sql::connection& c, int target = -1);

} // namespace booking
