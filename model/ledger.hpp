// The append-only records. The credit ledger (SPEC §2, §5.11): every change of `users.credits` writes
// exactly one `credit_ledger` row in the same transaction, so credits = sum(delta) holds at every
// commit. The audit trail (SPEC §4): every admin write adds one `audit_events` row in its transaction.
#pragma once

#include <optional>
#include <string>

#include "model/sqlite.hpp"
#include "model/types.hpp"

namespace booking {

/// Appends the ledger row of a credit change that was just applied to `users.credits` inside the
/// caller's open write transaction. `balance_after` is read back from the user row. `reason` is one
/// of SPEC's ledger reasons (`booking`, `refund`, `promotion`, `grant`, `adjustment`, `studio_cancel`).
/// Returns the row id.
id_type record_credit_change(sql::connection& c, id_type user_id, int delta, const char* reason,
                             std::optional<id_type> booking_id, std::optional<id_type> actor, instant now);

/// Appends one `audit_events` row inside the caller's open write transaction. `detail` is JSON text;
/// no `actor` (0) is stored as NULL.
void record_audit_event(sql::connection& c, id_type actor, const char* action, const char* target_type,
                        id_type target_id, const std::string& detail, instant now);

} // namespace booking
