// The credit ledger (SPEC §2, §5.11): every change of `users.credits` writes exactly one
// `credit_ledger` row in the same transaction, so credits = sum(delta) holds at every commit.
#pragma once

#include <optional>

#include "model/sqlite.hpp"
#include "model/types.hpp"

namespace booking {

/// Appends the ledger row of a credit change that was just applied to `users.credits` inside the
/// caller's open write transaction. `balance_after` is read back from the user row. `reason` is one
/// of SPEC's ledger reasons (`booking`, `refund`, `promotion`, `grant`, `adjustment`, `studio_cancel`).
/// Returns the row id.
id_type record_credit_change(sql::connection& c, id_type user_id, int delta, const char* reason,
                             std::optional<id_type> booking_id, std::optional<id_type> actor, instant now);

} // namespace booking
