// The SQLite store: one connection per object, used by one thread at a time.
// Reads build pages; writes are single `BEGIN IMMEDIATE` transactions that check the rules of
// SPEC §3 and apply them atomically, with idempotency records in the same transaction.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/promotion.hpp"
#include "model/sqlite.hpp"
#include "model/types.hpp"

namespace booking {

struct store_options {
  std::string path;
  int busy_timeout_ms = 5000;
  /// Bytes of the database file each connection reads through a memory map (0: pread(), the
  /// default: with writes, every growth of the file remaps each connection's map, see BENCHMARKS).
  long long mmap_bytes = 0;
  /// Fault injection: milliseconds added before every store call made through `store_pool` or the
  /// HTTP threads (tests of slow stores and of shutdown with work in flight).
  int delay_ms = 0;
  /// WAL pages after which a committing connection checkpoints the log itself (SQLite's default,
  /// 1,000). The server raises it to a backstop and checkpoints from its upkeep thread instead
  /// (http/maintenance), so no write waits for a checkpoint and its two fsyncs.
  int wal_autocheckpoint_pages = 1000;
  /// KiB of SQLite page cache per connection. Small by default: many connections live at once, and
  /// every write by another connection empties a connection's cache anyway. The one connection all
  /// member writes go through keeps its cache between its own transactions (http/store_writer).
  int cache_kib = 512;
};

/// Sleeps `opts.delay_ms`, if any: the one place the fault-injection delay lives, called once per
/// store call by `store_pool` (a job) and by the HTTP threads' leases.
void inject_store_delay(const store_options& opts);

enum class write_kind { book, cancel, leave, join_waitlist, withdraw };

struct write_command {
  write_kind kind = write_kind::book;
  id_type target = 0; // session id for book and join_waitlist, entry id for withdraw, booking id otherwise
  std::string reason; // leave only
  /// Who made the change, when not the user: an admin acting with `?user_id=`. The ledger records
  /// them as `actor_user_id`, and a cancel records `cancelled_by = admin`. 0: the user.
  id_type actor = 0;
  id_type actor_for(id_type user) const { return actor ? actor : user; }
};

/// The service's settings that rules depend on.
struct write_policy {
  std::chrono::seconds cancel_window{std::chrono::hours{12}};
  std::chrono::seconds waitlist_cutoff{std::chrono::hours{14}};
};

struct write_result {
  error_code error = error_code::none;
  std::optional<booking> b;            // the booking after a book, cancel or leave, when it succeeded
  std::optional<waitlist_entry> entry; // the entry after a join or withdraw, when it succeeded
  promotion_outcome promotion;         // what the seat freed by a cancel or leave did
  /// When promotion ran (wall clock, ns since the epoch; 0: it did not): a trace span for the caller.
  std::int64_t promotion_start_ns = 0, promotion_end_ns = 0;
  /// Members other than the writer whose page the write changed: promoted or skipped, or moved up the
  /// waitlist. Their cached pages must be invalidated before the 2xx (SPEC §5.9).
  std::vector<id_type> affected_users;
};

/// What the client got for a write: stored for idempotent replay.
struct stored_response {
  int status = 0;
  std::string body;
};

struct idempotency_request {
  std::string key;          // as sent, at most 64 characters
  std::string request_hash; // identifies method, path without the language prefix, and body
};

struct write_outcome {
  write_result result;
  stored_response response;
  bool replayed = false; // the response is the stored one of an earlier identical request
  bool mismatch = false; // the key was used for another request: nothing was done
  /// The member's page data as this write left it (`write_extras::snapshot`, a change only).
  std::shared_ptr<const user_snapshot> snapshot;
};

/// What the caller of `store::write` may ask beyond the response.
struct write_extras {
  /// After a change (not a refusal, a replay or a mismatch), read the member's page snapshot in the
  /// write's own transaction.
  bool snapshot = false;
};

class store {
public:
  explicit store(const store_options& opts);
  ~store();
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  sql::connection& connection();

  std::optional<token_info> find_token(const std::string& token_hash);
  std::optional<user> find_user(id_type id);
  /// The user row and all bookings (joined with their sessions) by starts_at, id; nullopt if no such user.
  /// What a page needs only: no email, no leave reasons (cached for hours, so kept small).
  std::optional<user_snapshot> load_user(id_type id);
  std::vector<location> locations();
  std::optional<location> find_location(id_type id);
  /// Sessions at a location starting in [from, to), with seats left and waitlist length.
  std::vector<session_view> sessions_at(id_type location_id, instant from, instant to);
  /// A waitlist entry with its session and live position; nullopt if none.
  std::optional<waitlist_entry> find_entry(id_type id);

  /// One transaction: replay or refuse per the idempotency record when `idem` is given, else check the
  /// rules, apply, let `respond` render the response, and store it with the key (unless it is a 5xx).
  write_outcome write(id_type user_id, const write_command& cmd, instant now, const write_policy& policy,
                      const idempotency_request* idem,
                      const std::function<stored_response(const write_result&)>& respond,
                      const write_extras& extras = {});

  write_result book(id_type user_id, id_type session_id, instant now);
  write_result cancel(id_type user_id, id_type booking_id, instant now, std::chrono::seconds cancel_window,
                      std::chrono::seconds waitlist_cutoff = std::chrono::hours{14});
  write_result leave(id_type user_id, id_type booking_id, const std::string& reason, instant now,
                     std::chrono::seconds waitlist_cutoff = std::chrono::hours{14});
  write_result join_waitlist(id_type user_id, id_type session_id, instant now,
                             std::chrono::seconds waitlist_cutoff = std::chrono::hours{14});
  write_result withdraw(id_type user_id, id_type entry_id, instant now);

  /// Keeps `response` (a refusal of the request's input) under the idempotency key, unless the key
  /// is already taken: then the earlier response is replayed, or it is a mismatch. One transaction.
  write_outcome remember_response(id_type user_id, const idempotency_request& idem, const stored_response& response,
                                  instant now);

  /// Deletes idempotency records created before `cutoff`; returns how many.
  int purge_idempotency(instant cutoff);

private:
  /// The key's record, if any: `out` becomes its replay or a mismatch. Inside the caller's transaction.
  bool recorded(id_type user_id, const idempotency_request& idem, write_outcome& out);
  /// Keeps `response` under the key (same transaction as what it answers).
  void remember(id_type user_id, const idempotency_request& idem, const stored_response& response, instant now);
  struct statements;
  write_result apply(id_type user_id, const write_command& cmd, instant now, const write_policy& policy);
  /// The audit row of a write an admin made for `user_id` (in the write's transaction).
  void audit_acting(id_type user_id, const write_command& cmd, const write_result& r, instant now);
  write_result apply_join(const std::optional<user>& u, id_type session_id, instant now, const write_policy& policy);
  write_result apply_withdraw(const std::optional<user>& u, id_type entry_id, instant now);
  /// Runs promotion for the session whose seat a cancel or leave of `writer` just freed.
  void promote_after(write_result& res, id_type writer, id_type session_id, instant now, const write_policy& policy);
  std::optional<booking> booking_by_id(id_type id);
  std::optional<session> session_by_id(id_type id);
  /// `load_user` inside the caller's transaction.
  std::optional<user_snapshot> read_user(id_type id);

  std::unique_ptr<sql::connection> conn_;
  std::unique_ptr<statements> st_;
};

} // namespace booking
