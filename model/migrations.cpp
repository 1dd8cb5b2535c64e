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
  // 2: waitlist, credit ledger, studio administration (SPEC §2 as extended). Existing data is kept:
  // every user gets an `opening` ledger row for the credits they hold, so credits = sum(delta) from
  // the first commit on; earlier cancellations were the member's own.
  R"sql(
ALTER TABLE users ADD COLUMN active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1));
CREATE TABLE api_tokens_v2 (
  id         INTEGER PRIMARY KEY,
  token_hash TEXT    NOT NULL UNIQUE,
  user_id    INTEGER NOT NULL REFERENCES users(id),
  role       TEXT    NOT NULL CHECK (role IN ('member', 'admin')),
  revoked    INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
  created_at INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
);
INSERT INTO api_tokens_v2 (token_hash, user_id, role, revoked)
  SELECT token_hash, user_id, role, revoked FROM api_tokens ORDER BY user_id, token_hash;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_v2 RENAME TO api_tokens;
CREATE INDEX api_tokens_by_user ON api_tokens(user_id);
ALTER TABLE sessions ADD COLUMN status TEXT NOT NULL DEFAULT 'scheduled'
  CHECK (status IN ('scheduled', 'cancelled'));
ALTER TABLE sessions ADD COLUMN waitlist_capacity INTEGER NOT NULL DEFAULT 10 CHECK (waitlist_capacity >= 0);
ALTER TABLE bookings ADD COLUMN cancelled_by TEXT CHECK (cancelled_by IN ('member', 'admin', 'studio'));
ALTER TABLE bookings ADD COLUMN via_waitlist INTEGER NOT NULL DEFAULT 0 CHECK (via_waitlist IN (0, 1));
UPDATE bookings SET cancelled_by = 'member' WHERE status = 'cancelled';
CREATE TABLE waitlist_entries (
  id          INTEGER PRIMARY KEY,
  session_id  INTEGER NOT NULL REFERENCES sessions(id),
  user_id     INTEGER NOT NULL REFERENCES users(id),
  status      TEXT    NOT NULL CHECK (status IN ('waiting', 'promoted', 'withdrawn', 'skipped', 'cancelled')),
  joined_at   INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  booking_id  INTEGER REFERENCES bookings(id),
  skip_reason TEXT
);
CREATE UNIQUE INDEX waitlist_one_waiting ON waitlist_entries(user_id, session_id) WHERE status = 'waiting';
CREATE INDEX waitlist_by_session ON waitlist_entries(session_id, status, joined_at, id);
CREATE INDEX waitlist_by_user ON waitlist_entries(user_id, status);
CREATE TABLE credit_ledger (
  id            INTEGER PRIMARY KEY,
  user_id       INTEGER NOT NULL REFERENCES users(id),
  delta         INTEGER NOT NULL,
  balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
  reason        TEXT    NOT NULL CHECK (reason IN ('opening', 'booking', 'refund', 'promotion', 'grant',
                                                   'adjustment', 'studio_cancel')),
  booking_id    INTEGER REFERENCES bookings(id),
  actor_user_id INTEGER REFERENCES users(id),
  created_at    INTEGER NOT NULL
);
CREATE INDEX credit_ledger_by_user ON credit_ledger(user_id, id);
INSERT INTO credit_ledger (user_id, delta, balance_after, reason, created_at)
  SELECT id, credits, credits, 'opening', CAST(strftime('%s', 'now') AS INTEGER) FROM users ORDER BY id;
CREATE TABLE audit_events (
  id            INTEGER PRIMARY KEY,
  created_at    INTEGER NOT NULL,
  actor_user_id INTEGER REFERENCES users(id),
  action        TEXT    NOT NULL,
  target_type   TEXT    NOT NULL,
  target_id     INTEGER,
  detail        TEXT    NOT NULL DEFAULT '{}'
);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
  BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
  BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
)sql",
};

int current_version(sql::connection& c) {
  sql::statement st{c, "PRAGMA user_version"};
  sql::scoped_reset r{st};
  return st.step() ? st.int32(0) : 0;
}

} // namespace

int schema_version() { return static_cast<int>(std::size(migrations)); }

void migrate(sql::connection& c, int target) {
  if (target < 0 || target > schema_version())
    target = schema_version();
  int have = current_version(c);
  if (have > schema_version())
    throw sql::error("database schema version " + std::to_string(have) + " is newer than this build ("
                       + std::to_string(schema_version()) + ")",
                     1);
  for (int v = have; v < target; ++v) {
    sql::transaction tx{c, true};
    if (current_version(c) > v) // another process migrated meanwhile
      return;
    c.exec(migrations[v]);
    c.exec(("PRAGMA user_version = " + std::to_string(v + 1)).c_str());
    tx.commit();
  }
}

} // namespace booking
