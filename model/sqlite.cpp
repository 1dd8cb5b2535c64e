#include "model/sqlite.hpp"

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include <sqlite3.h>

namespace booking::sql {

error::error(const std::string& what, int code) : std::runtime_error(what), code_(code) {}

bool error::busy() const {
  auto primary = code_ & 0xff;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

namespace {

[[noreturn]] void fail(sqlite3* db, int rc, const char* what) {
  throw error(std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)), rc);
}

} // namespace

namespace {

/// One writer queue per database file in this process (by canonical path).
std::shared_ptr<std::timed_mutex> writer_queue(const std::string& path) {
  static std::mutex m;
  static std::map<std::string, std::weak_ptr<std::timed_mutex>> queues;
  std::error_code ec;
  auto key = std::filesystem::weakly_canonical(path, ec).string();
  if (ec)
    key = path;
  std::lock_guard<std::mutex> g{m};
  auto& slot = queues[key];
  auto q = slot.lock();
  if (!q) {
    q = std::make_shared<std::timed_mutex>();
    slot = q;
  }
  return q;
}

/// SQLite keeps process-wide memory statistics by default, under one mutex that every
/// `sqlite3_malloc` and `sqlite3_free` of every connection takes: a third of the server's lock waits
/// under the mixed load (docs/BENCHMARKS.md, "SQLite's memory statistics"). Nothing here reads them
/// (no heap limit is set). SQLite takes this setting only before it initializes, so before the first
/// connection opens; later calls are refused and change nothing.
void without_memory_statistics() {
  static std::once_flag once;
  std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

} // namespace

connection::connection(const std::string& path, int busy_timeout_ms, long long mmap_bytes, int autocheckpoint_pages,
                       int cache_kib)
  : writer_(writer_queue(path)), busy_timeout_(busy_timeout_ms) {
  without_memory_statistics();
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw error("cannot open database " + path + ": " + msg, rc);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, busy_timeout_ms);
  exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA synchronous=NORMAL");
  exec("PRAGMA foreign_keys=ON");
  sqlite3_wal_autocheckpoint(db_, autocheckpoint_pages);
  // Many connections live at once (pooled for the HTTP threads, one per store thread): each page
  // cache is small (512 KiB by default) so memory does not grow with the number of connections
  // times SQLite's default 2 MB cache; the OS page cache holds the hot file pages once for all.
  exec(("PRAGMA cache_size=-" + std::to_string(cache_kib > 0 ? cache_kib : 512)).c_str());
  // Optional (`--store-mmap-mib`): reads through a memory map of the file instead of a pread() copy
  // into the connection's cache. Faster for a read-only store; under writes each growth of the file
  // remaps every connection's map (munmap + TLB shootdown), which cost more than it saved here
  // (docs/BENCHMARKS.md). Mapped pages count as file-backed RSS, once per mapping. SQLite caps the
  // size at its compiled maximum (2 GiB in Debian's build).
  if (mmap_bytes > 0)
    exec(("PRAGMA mmap_size=" + std::to_string(mmap_bytes)).c_str());
}

connection::~connection() {
  for (auto& [text, st] : kept_)
    sqlite3_finalize(st);
  if (db_)
    sqlite3_close_v2(db_);
}

namespace {

/// Distinct statement texts a connection keeps; the code has a few dozen, so this only guards
/// against a text built with values in it.
constexpr std::size_t max_kept_statements = 256;

} // namespace

sqlite3_stmt* connection::take(const char* sql) {
  if (auto it = kept_.find(std::string_view{sql}); it != kept_.end()) {
    auto st = it->second;
    kept_.erase(it);
    return st;
  }
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(st);
    fail(db_, rc, "prepare failed");
  }
  if (!st) // only white space or a comment
    throw error(std::string("prepare failed: no statement in \"") + sql + "\"", SQLITE_MISUSE);
  return st;
}

void connection::give_back(sqlite3_stmt* st) noexcept {
  if (!st)
    return;
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  const char* text = sqlite3_sql(st);
  if (!text || kept_.size() >= max_kept_statements) {
    sqlite3_finalize(st);
    return;
  }
  try {
    if (!kept_.emplace(std::string_view{text}, st).second)
      sqlite3_finalize(st); // the same text is kept already (this one was a nested use)
  } catch (...) {
    sqlite3_finalize(st);
  }
}

void connection::exec(const char* sql) {
  char* msg = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &msg);
  if (rc != SQLITE_OK) {
    std::string text = msg ? msg : sqlite3_errstr(rc);
    sqlite3_free(msg);
    throw error(std::string("exec failed: ") + text, rc);
  }
}

std::int64_t connection::last_insert_id() const { return sqlite3_last_insert_rowid(db_); }

int connection::changes() const { return sqlite3_changes(db_); }

statement::statement(connection& c, const char* sql) : conn_(c), st_(c.take(sql)) {}

statement::~statement() { conn_.give_back(st_); }

statement& statement::bind(int idx, std::int64_t v) {
  sqlite3_bind_int64(st_, idx, v);
  return *this;
}

statement& statement::bind(int idx, std::string_view v) {
  sqlite3_bind_text(st_, idx, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

statement& statement::bind_null(int idx) {
  sqlite3_bind_null(st_, idx);
  return *this;
}

bool statement::step() {
  int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW)
    return true;
  if (rc == SQLITE_DONE)
    return false;
  fail(conn_.handle(), rc, "step failed");
}

void statement::run() {
  scoped_reset guard{*this};
  while (step()) {
  }
}

void statement::reset() {
  sqlite3_reset(st_);
  sqlite3_clear_bindings(st_);
}

std::int64_t statement::int64(int col) const { return sqlite3_column_int64(st_, col); }

std::string statement::text(int col) const {
  auto p = reinterpret_cast<const char*>(sqlite3_column_text(st_, col));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(st_, col))) : std::string{};
}

bool statement::is_null(int col) const { return sqlite3_column_type(st_, col) == SQLITE_NULL; }

transaction::transaction(connection& c, bool immediate) : c_(c) {
  if (!sqlite3_get_autocommit(c.handle())) {
    statement{c_, "SAVEPOINT nested"}.run();
    nested_ = open_ = true;
    return;
  }
  if (immediate) {
    writing_ = std::unique_lock<std::timed_mutex>{c.writer(), std::defer_lock};
    if (!writing_.try_lock_for(c.busy_timeout()))
      throw error("database is locked: another write of this process held it for the whole busy timeout",
                  SQLITE_BUSY);
  }
  // The busy timeout already waits inside BEGIN IMMEDIATE; a few bounded retries absorb the rare
  // case where SQLite gives up early (e.g. a checkpoint in progress).
  for (int attempt = 0;; ++attempt) {
    try {
      statement{c_, immediate ? "BEGIN IMMEDIATE" : "BEGIN"}.run();
      open_ = true;
      return;
    } catch (const error& e) {
      if (!e.busy() || attempt >= 3)
        throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(5 * (attempt + 1)));
    }
  }
}

transaction::~transaction() {
  if (open_)
    sqlite3_exec(c_.handle(), nested_ ? "ROLLBACK TO nested; RELEASE nested" : "ROLLBACK", nullptr, nullptr, nullptr);
}

void transaction::commit() {
  statement{c_, nested_ ? "RELEASE nested" : "COMMIT"}.run();
  open_ = false;
}

} // namespace booking::sql
