#include "model/migrations.hpp"

#include <iterator>
#include <string>

namespace booking {

namespace {

// Instants are INTEGER seconds since the Unix epoch (UTC). Never edit a shipped migration; add one.
const char* const migrations[] = {
  // 1: the data model of SPEC §2.
  R"sql(
CREATE TABLE users (
  id          INTEGER PRIMARY KEY,
  name        TEXT    NOT NULL,
  email       TEXT    NOT NULL UNIQUE,
  credits     INTEGER NOT NULL CHECK (credits >= 0),
  leave_quota INTEGER NOT NULL CHECK (leave_quota >= 0)
);
CREATE TABLE api_tokens (
  token_hash TEXT    PRIMARY KEY,
  user_id    INTEGER NOT NULL REFERENCES users(id),
  role       TEXT    NOT NULL CHECK (role IN ('member', 'admin')),
  revoked    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE locations (
  id      INTEGER PRIMARY KEY,
  name    TEXT NOT NULL,
  address TEXT NOT NULL
);
CREATE TABLE sessions (
  id          INTEGER PRIMARY KEY,
  location_id INTEGER NOT NULL REFERENCES locations(id),
  title       TEXT    NOT NULL,
  coach       TEXT    NOT NULL,
  starts_at   INTEGER NOT NULL,
  ends_at     INTEGER NOT NULL,
  capacity    INTEGER NOT NULL CHECK (capacity >= 1),
  CHECK (ends_at > starts_at)
);
CREATE INDEX sessions_by_location_start ON sessions(location_id, starts_at);
CREATE TABLE bookings (
  id              INTEGER PRIMARY KEY,
  user_id         INTEGER NOT NULL REFERENCES users(id),
  session_id      INTEGER NOT NULL REFERENCES sessions(id),
  status          TEXT    NOT NULL CHECK (status IN ('booked', 'cancelled', 'leave')),
  leave_reason    TEXT,
  credit_refunded INTEGER NOT NULL DEFAULT 0,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX bookings_one_booked ON bookings(user_id, session_id) WHERE status = 'booked';
CREATE INDEX bookings_by_user ON bookings(user_id);
CREATE INDEX bookings_by_session_status ON bookings(session_id, status);
CREATE TABLE idempotency_keys (
  user_id      INTEGER NOT NULL,
  key          TEXT    NOT NULL,
  request_hash TEXT    NOT NULL,
  status       INTEGER NOT NULL,
  body         TEXT    NOT NULL,
  created_at   INTEGER NOT NULL,
  PRIMARY KEY (user_id, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_by_age ON idempotency_keys(created_at);
)sql",
};

int current_version(sql::connection& c) {
  sql::statement st{c, "PRAGMA user_version"};
  sql::scoped_reset r{st};
  return st.step() ? st.int32(0) : 0;
}

} // namespace

int schema_version() { return static_cast<int>(std::size(migrations)); }

void migrate(sql::connection& c) {
  int have = current_version(c);
  if (have > schema_version())
    throw sql::error("database schema version " + std::to_string(have) + " is newer than this build ("
                       + std::to_string(schema_version()) + ")",
                     1);
  for (int v = have; v < schema_version(); ++v) {
    sql::transaction tx{c, true};
    if (current_version(c) > v) // another process migrated meanwhile
      return;
    c.exec(migrations[v]);
    c.exec(("PRAGMA user_version = " + std::to_string(v + 1)).c_str());
    tx.commit();
  }
}

} // namespace booking
