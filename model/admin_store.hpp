// Studio administration in the store (SPEC §3, §4 "Studio administration"): locations, sessions and
// weekly schedules, members, tokens, credits, the ledger and the audit trail.
//
// Every write is one `BEGIN IMMEDIATE` transaction that checks its rules, applies them, appends exactly
// one `audit_events` row, and handles `Idempotency-Key` exactly as `store::write` does (same table:
// an identical retry replays the stored status and body, another request with the key is refused).
// Every write reports whose pages it changed, so the HTTP layer can fan the cleanup out.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/schedule.hpp"
#include "model/store.hpp"
#include "model/time_zone.hpp"

namespace booking {

/// What a promotion changed: the users it booked, and every user whose page changed with it (the
/// promoted, the skipped, and those who moved up the line).
struct promotion_fanout {
  std::vector<id_type> promoted;
  std::vector<id_type> affected;
};

/// Runs the waitlist promotion of one session inside the caller's write transaction. Supplied by the
/// caller (the waitlist's `promote_waitlist`); empty: no promotion.
using promoter = std::function<promotion_fanout(sql::connection&, id_type session_id, instant now)>;

/// Who writes, when, and how the response is rendered and remembered.
struct admin_call {
  id_type actor = 0;
  instant now{};
  const idempotency_request* idem = nullptr;
  /// Renders the response stored with the idempotency key; without it, `response` stays empty.
  std::function<stored_response(const struct admin_result&)> respond;
};

struct admin_result {
  error_code error = error_code::none;
  std::string problem;  // the reason of an invalid_request, for the message
  int status = 200;     // on success: 200 or 201
  nlohmann::json body;  // on success
  /// Users whose booking page, waitlist or credits changed: their caches must be refreshed.
  std::vector<id_type> affected_users;
  /// Users booked by waitlist promotion during this write.
  std::vector<id_type> promoted_users;
  /// SHA-256 hashes of tokens revoked by this write: the token cache must forget them.
  std::vector<std::string> revoked_token_hashes;
  bool locations_changed = false;

  stored_response response;
  bool replayed = false;
  bool mismatch = false;
};

struct location_patch {
  std::optional<std::string> name, address;
};

struct session_input {
  id_type location_id = 0;
  std::string title, coach;
  instant starts_at{}, ends_at{};
  int capacity = 1;
  int waitlist_capacity = 10;
};

struct session_patch {
  std::optional<std::string> title, coach;
  std::optional<int> capacity, waitlist_capacity;
  std::optional<instant> starts_at, ends_at;
};

struct schedule_input {
  id_type location_id = 0;
  std::string title, coach;
  int capacity = 1;
  int waitlist_capacity = 10;
  weekly_schedule recurrence;
};

struct member_input {
  std::string name, email;
  int credits = 0;
  int leave_quota = 0;
};

class admin_store {
public:
  /// `c` must not be inside a transaction. `tz` renders instants; `promote` may be empty.
  admin_store(sql::connection& c, const zone& tz, promoter promote = {});

  /// A request refused before it reached the rules (invalid input): remembered with its idempotency
  /// key like any other answer, no audit row.
  admin_result reject(const admin_call& call, error_code e, const std::string& problem);

  admin_result create_location(const admin_call& call, const std::string& name, const std::string& address);
  admin_result edit_location(const admin_call& call, id_type id, const location_patch& p);

  admin_result create_session(const admin_call& call, const session_input& in);
  admin_result create_schedule(const admin_call& call, const schedule_input& in);
  admin_result edit_session(const admin_call& call, id_type id, const session_patch& p);
  admin_result cancel_session(const admin_call& call, id_type id, const std::string& reason);
  /// `{"entries": [...]}`: waiting entries in promotion order.
  admin_result session_waitlist(id_type id);

  /// 201 `{"member", "token"}`: the token is only ever returned here.
  admin_result create_member(const admin_call& call, const member_input& in);
  admin_result member(id_type id);
  admin_result deactivate_member(const admin_call& call, id_type id);
  admin_result issue_token(const admin_call& call, id_type member_id);
  admin_result revoke_token(const admin_call& call, id_type token_id);

  /// delta ≠ 0 and |delta| ≤ 1000 are the caller's to check; never below 0 (insufficient_credits).
  admin_result change_credits(const admin_call& call, id_type member_id, int delta, const std::string& reason);
  /// The newest `limit` entries, newest first; with `before`, only those whose id is below it (the
  /// next page of a list the caller read up to that id).
  admin_result ledger(id_type member_id, int limit, std::optional<id_type> before = std::nullopt);
  admin_result audit(int limit, std::optional<id_type> before = std::nullopt);

private:
  /// One write transaction: idempotency, `op`, the audit row (when `op` succeeds), the stored response.
  admin_result write(const admin_call& call, const std::function<admin_result()>& op);
  void audit_row(const admin_call& call, const char* action, const char* target_type, id_type target_id,
                 const nlohmann::json& detail);
  promotion_fanout promote(id_type session_id, instant now);
  nlohmann::json session_json(id_type id);

  sql::connection& c_;
  const zone& tz_;
  promoter promote_;
};

/// A new bearer token: 32 bytes from OpenSSL's RAND_bytes, URL-safe base64 without padding.
std::string new_token();

struct issued_token {
  id_type user_id = 0;
  id_type token_id = 0;
  std::string token; // shown once; the database keeps its SHA-256
};

/// The operator's way back in (`booking-admin-token`): the API issues member tokens only, so a studio
/// whose admin tokens are lost, revoked, or held by a deactivated user has no admin left. Issues an
/// admin-role token to the active user whose email is `email` (ASCII case ignored, as `POST members`
/// compares them), with an audit row `token.issue` that names no actor, in one write transaction.
/// Nullopt when no active user has that email.
std::optional<issued_token> issue_admin_token(sql::connection& c, const std::string& email, instant now);

} // namespace booking
