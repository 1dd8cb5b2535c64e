// Versioned schema migrations, tracked in `PRAGMA user_version`.
#pragma once

#include "model/sqlite.hpp"

namespace booking {

/// The schema version this build writes.
int schema_version();
/// Applies every migration newer than the file's `user_version`, each in its own transaction.
/// Refuses a file written by a newer build.
void migrate(sql::connection& c);

} // namespace booking
