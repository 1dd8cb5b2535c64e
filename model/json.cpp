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
              {"seats_left", v.seats_left},
              {"status", to_string(v.s.status)},
              {"waitlist_capacity", v.s.waitlist_capacity},
              {"waitlist_length", v.waitlist_length}};
}

namespace {

/// The session object inside a booking or a waitlist entry.
json session_ref_json(const session& s, const zone& z) {
  return json{{"id", s.id},
              {"title", s.title},
              {"coach", s.coach},
              {"location_id", s.location_id},
              {"starts_at", z.format(s.starts_at)},
              {"ends_at", z.format(s.ends_at)},
              {"status", to_string(s.status)}};
}

} // namespace

json booking_json(const booking& b, const zone& z, lang l, instant now, bool with_reason) {
  auto st = state_of(b.status, b.sess.starts_at, now);
  json j{{"id", b.id},
         {"status", to_string(b.status)},
         {"state", to_string(st)},
         {"state_label", state_label(st, l)},
         {"credit_refunded", b.credit_refunded},
         {"cancelled_by", b.cancelled_by.empty() ? json(nullptr) : json(b.cancelled_by)},
         {"via_waitlist", b.via_waitlist},
         {"created_at", z.format(b.created_at)},
         {"updated_at", z.format(b.updated_at)},
         {"session", session_ref_json(b.sess, z)}};
  if (with_reason)
    j["leave_reason"] = b.leave_reason.empty() ? json(nullptr) : json(b.leave_reason);
  return j;
}

json entry_json(const waitlist_entry& e, const zone& z, lang l, instant now, std::chrono::seconds cutoff) {
  json j{{"id", e.id},
         {"status", to_string(e.status)},
         {"state", nullptr},
         {"state_label", nullptr},
         {"position", nullptr},
         {"joined_at", z.format(e.joined_at)},
         {"session", session_ref_json(e.sess, z)}};
  if (e.status == waitlist_status::waiting) {
    auto st = waitlist_state_of(e.sess, now, cutoff);
    j["state"] = to_string(st);
    j["state_label"] = waitlist_state_label(st, l);
    j["position"] = e.position;
  }
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
