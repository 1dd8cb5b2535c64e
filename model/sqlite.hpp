// Thin RAII over the SQLite C API: one connection, prepared statements reused and reset.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace booking::sql {

/// A failed SQLite call. `busy` marks SQLITE_BUSY / SQLITE_LOCKED that outlasted the busy timeout.
class error : public std::runtime_error {
public:
  error(const std::string& what, int code);
  int code() const { return code_; }
  bool busy() const;

private:
  int code_;
};

class connection {
public:
  /// Opens (creating if needed) the file, WAL mode, the busy timeout, foreign keys on.
  /// `mmap_bytes`: how much of the file reads may map (0: read with pread() into the page cache).
  /// `autocheckpoint_pages`: WAL size in pages at which a commit on this connection checkpoints.
  /// `cache_kib`: the size of this connection's page cache.
  connection(const std::string& path, int busy_timeout_ms, long long mmap_bytes = 0,
             int autocheckpoint_pages = 1000, int cache_kib = 512);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  void exec(const char* sql);
  sqlite3* handle() const { return db_; }
  std::int64_t last_insert_id() const;
  int changes() const;
  /// The queue of this process's writers to the same file (see `transaction`).
  std::timed_mutex& writer() { return *writer_; }
  std::chrono::milliseconds busy_timeout() const { return busy_timeout_; }

  /// A prepared statement for `sql`: the one this connection kept from an earlier use, or a new
  /// one. Preparing is most of what a short write costs in SQLite (parsing, name resolution, code
  /// generation), so statements are kept by their text and only bound and stepped again. A
  /// statement taken is the caller's until `give_back`: a nested use of the same text prepares
  /// another.
  sqlite3_stmt* take(const char* sql);
  /// Resets `st` (ending any read it holds), clears its bindings and keeps it for the next `take`
  /// of its text; finalizes it when that text is already kept or the cache is full.
  void give_back(sqlite3_stmt* st) noexcept;
  /// How many prepared statements this connection keeps (for tests).
  std::size_t kept_statements() const { return kept_.size(); }

private:
  sqlite3* db_ = nullptr;
  /// Kept statements by their SQL text; each key views the text SQLite holds for its statement.
  std::unordered_map<std::string_view, sqlite3_stmt*> kept_;
  std::shared_ptr<std::timed_mutex> writer_;
  std::chrono::milliseconds busy_timeout_;
};

/// A prepared statement, reset after every use, taken from and given back to its connection's kept
/// statements (so a statement object made per call costs no new preparation).
class statement {
public:
  statement(connection& c, const char* sql);
  ~statement();
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;

  statement& bind(int idx, std::int64_t v);
  statement& bind(int idx, int v) { return bind(idx, static_cast<std::int64_t>(v)); }
  statement& bind(int idx, std::string_view v);
  statement& bind_null(int idx);
  /// true while a row is available; throws sql::error on failure.
  bool step();
  /// Runs a statement that returns no rows, then resets it.
  void run();
  void reset();

  std::int64_t int64(int col) const;
  int int32(int col) const { return static_cast<int>(int64(col)); }
  std::string text(int col) const;
  bool is_null(int col) const;
  sqlite3_stmt* handle() const { return st_; }

private:
  connection& conn_;
  sqlite3_stmt* st_ = nullptr;
};

/// Resets a statement when leaving a scope, whatever happens.
class scoped_reset {
public:
  explicit scoped_reset(statement& s) : s_(s) {}
  ~scoped_reset() { s_.reset(); }

private:
  statement& s_;
};

/// `BEGIN IMMEDIATE` or `BEGIN` ... `COMMIT`, rolled back unless committed.
/// `BEGIN` (a read snapshot) or `BEGIN IMMEDIATE` (a write). Writers of one process first queue on
/// a mutex shared by every connection to the same file, for at most the busy timeout: the next
/// writer starts the moment the previous one commits, instead of polling SQLite's lock with the busy
/// handler's growing sleeps (1, 2, 5 ... 100 ms), which put hundreds of milliseconds on the tail of
/// writes under load. SQLite's own lock still guards against other processes.
///
/// Inside a transaction already open on the connection (a group of writes, http/store_writer), it
/// is a savepoint of it instead: `commit` releases the savepoint, and an uncommitted one rolls back
/// its own changes only. The outer transaction holds the writer lock.
class transaction {
public:
  transaction(connection& c, bool immediate);
  ~transaction();
  void commit();

private:
  connection& c_;
  bool open_ = false;
  bool nested_ = false;
  std::unique_lock<std::timed_mutex> writing_;
};

} // namespace booking::sql
