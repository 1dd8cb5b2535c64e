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

void record_audit_event(sql::connection& c, id_type actor, const char* action, const char* target_type,
                        id_type target_id, const std::string& detail, instant now) {
  sql::statement st{c, "INSERT INTO audit_events (created_at, actor_user_id, action, target_type, target_id, detail) "
                       "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"};
  st.bind(1, now.time_since_epoch().count());
  if (actor > 0)
    st.bind(2, actor);
  else
    st.bind_null(2);
  st.bind(3, std::string_view{action}).bind(4, std::string_view{target_type}).bind(5, target_id);
  st.bind(6, detail).run();
}

} // namespace booking
