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

#include "model/sqlite.hpp"
#include "model/types.hpp"

namespace booking {

struct store_options {
  std::string path;
  int busy_timeout_ms = 5000;
  /// Fault injection: milliseconds added before every store call made through `store_pool` or the
  /// HTTP threads (tests of slow stores and of shutdown with work in flight).
  int delay_ms = 0;
};

enum class write_kind { book, cancel, leave };

struct write_command {
  write_kind kind = write_kind::book;
  id_type target = 0; // session id for book, booking id otherwise
  std::string reason; // leave only
};

struct write_result {
  error_code error = error_code::none;
  std::optional<booking> b; // the booking after the write, when it succeeded
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
  std::optional<user_snapshot> load_user(id_type id);
  std::vector<location> locations();
  std::optional<location> find_location(id_type id);
  /// Sessions at a location starting in [from, to), with seats left.
  std::vector<session_view> sessions_at(id_type location_id, instant from, instant to);

  /// One transaction: replay or refuse per the idempotency record when `idem` is given, else check the
  /// rules, apply, let `respond` render the response, and store it with the key (unless it is a 5xx).
  write_outcome write(id_type user_id, const write_command& cmd, instant now, std::chrono::seconds cancel_window,
                      const idempotency_request* idem,
                      const std::function<stored_response(const write_result&)>& respond);

  write_result book(id_type user_id, id_type session_id, instant now);
  write_result cancel(id_type user_id, id_type booking_id, instant now, std::chrono::seconds cancel_window);
  write_result leave(id_type user_id, id_type booking_id, const std::string& reason, instant now);

  /// Keeps `response` (a refusal of the request's input) under the idempotency key, unless the key
  /// is already taken: then the earlier response is replayed, or it is a mismatch. One transaction.
  write_outcome remember_response(id_type user_id, const idempotency_request& idem, const stored_response& response,
                                  instant now);

  /// Deletes idempotency records created before `cutoff`; returns how many.
  int purge_idempotency(instant cutoff);

private:
  struct statements;
  write_result apply(id_type user_id, const write_command& cmd, instant now, std::chrono::seconds window);
  std::optional<booking> booking_by_id(id_type id);

  std::unique_ptr<sql::connection> conn_;
  std::unique_ptr<statements> st_;
};

} // namespace booking
