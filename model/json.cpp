#include "model/json.hpp"

#include "model/labels.hpp"
#include "model/rules.hpp"

namespace booking {

using nlohmann::json;

json location_json(const location& l) {
  return json{{"id", l.id}, {"name", l.name}, {"address", l.address}};
}

json locations_json(const std::vector<location>& ls) {
  auto arr = json::array();
  for (const auto& l : ls)
    arr.push_back(location_json(l));
  return arr;
}

json session_view_json(const session_view& v, const zone& z) {
  return json{{"id", v.s.id},
              {"title", v.s.title},
              {"coach", v.s.coach},
              {"location_id", v.s.location_id},
              {"starts_at", z.format(v.s.starts_at)},
              {"ends_at", z.format(v.s.ends_at)},
              {"capacity", v.s.capacity},
              {"seats_left", v.seats_left}};
}

json booking_json(const booking& b, const zone& z, lang l, instant now, bool with_reason) {
  auto st = state_of(b.status, b.sess.starts_at, now);
  json j{{"id", b.id},
         {"status", to_string(b.status)},
         {"state", to_string(st)},
         {"state_label", state_label(st, l)},
         {"credit_refunded", b.credit_refunded},
         {"created_at", z.format(b.created_at)},
         {"updated_at", z.format(b.updated_at)},
         {"session",
          {{"id", b.sess.id},
           {"title", b.sess.title},
           {"coach", b.sess.coach},
           {"location_id", b.sess.location_id},
           {"starts_at", z.format(b.sess.starts_at)},
           {"ends_at", z.format(b.sess.ends_at)}}}};
  if (with_reason)
    j["leave_reason"] = b.leave_reason.empty() ? json(nullptr) : json(b.leave_reason);
  return j;
}

json stats_json(const stats& s) {
  return json{{"upcoming", s.upcoming},
              {"completed", s.completed},
              {"cancelled", s.cancelled},
              {"leave", s.leave},
              {"credits_remaining", s.credits_remaining},
              {"leave_quota_remaining", s.leave_quota_remaining}};
}

std::string error_body(error_code e, lang l) {
  json j{{"error", {{"code", to_string(e)}, {"message", error_message(e, l)}}}};
  return j.dump();
}

} // namespace booking
