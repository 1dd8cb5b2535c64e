// Waitlist promotion (SPEC §3): fills a session's free seats from its `waiting` entries, in
// (`joined_at`, `id`) order, inside the caller's open write transaction. Every seat-freeing or
// capacity-raising change calls it before committing, so the checks and the effects are one atomic step.
#pragma once

#include <chrono>
#include <vector>

#include "model/sqlite.hpp"
#include "model/types.hpp"

namespace booking {

struct promotion_outcome {
  std::vector<id_type> promoted_users;
  int promoted = 0;
  int skipped = 0;
};

/// SPEC §3 promotion for one session, inside the caller's open write transaction.
///
/// Does nothing unless the session exists, is `scheduled`, and `now` is before its cut-off
/// (`starts_at - cutoff`). Then, while `booked` < capacity and a `waiting` entry exists, takes the one
/// with the smallest (`joined_at`, `id`): a member who is active, has credits >= 1 and holds no `booked`
/// booking for the session gets a `booked` booking with `via_waitlist` = 1, is charged one credit (ledger
/// reason `promotion`, no actor: the studio's rule acted) and the entry becomes `promoted` with its
/// booking id; anyone else's entry becomes `skipped` with a `skip_reason` (`inactive`,
/// `insufficient_credits`, `already_booked`). Throws sql::error on a store failure (the caller's
/// transaction then rolls back).
promotion_outcome promote_waitlist(sql::connection& c, id_type session_id, instant now, std::chrono::seconds cutoff);

/// The members holding a `waiting` entry for the session, in promotion order. Read it before a change
/// to the session's waitlist (promotion, withdraw, cancel): every one of them may see their entry or
/// its position change, so their cached pages are invalidated with the writer's.
std::vector<id_type> waiting_users(sql::connection& c, id_type session_id);

} // namespace booking
