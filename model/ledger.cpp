#include "model/ledger.hpp"

#include <string_view>

namespace booking {

id_type record_credit_change(sql::connection& c, id_type user_id, int delta, const char* reason,
                             std::optional<id_type> booking_id, std::optional<id_type> actor, instant now) {
  sql::statement st{c, "INSERT INTO credit_ledger (user_id, delta, balance_after, reason, booking_id, "
                       "actor_user_id, created_at) SELECT id, ?2, credits, ?3, ?4, ?5, ?6 FROM users WHERE id = ?1"};
  st.bind(1, user_id).bind(2, delta).bind(3, std::string_view{reason});
  if (booking_id)
    st.bind(4, *booking_id);
  else
    st.bind_null(4);
  if (actor)
    st.bind(5, *actor);
  else
    st.bind_null(5);
  st.bind(6, now.time_since_epoch().count()).run();
  if (c.changes() != 1)
    throw sql::error("ledger row not written", 1);
  return c.last_insert_id();
}

} // namespace booking
