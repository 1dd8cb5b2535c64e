#include "model/json.hpp"

#include "model/labels.hpp"
#include "model/rules.hpp"

namespace booking {

void write_location(json_writer& w, const location& l) {
  w.begin_object().key("address").value(l.address).key("id").value(l.id).key("name").value(l.name).end_object();
}

void write_locations(json_writer& w, const std::vector<location>& ls) {
  w.begin_array();
  for (const auto& l : ls)
    write_location(w, l);
  w.end_array();
}

void write_session_view(json_writer& w, const session_view& v, const zone& z) {
  w.begin_object()
    .key("capacity").value(v.s.capacity)
    .key("coach").value(v.s.coach)
    .key("ends_at").time(z, v.s.ends_at)
    .key("id").value(v.s.id)
    .key("location_id").value(v.s.location_id)
    .key("seats_left").value(v.seats_left)
    .key("starts_at").time(z, v.s.starts_at)
    .key("status").value(to_string(v.s.status))
    .key("title").value(v.s.title)
    .key("waitlist_capacity").value(v.s.waitlist_capacity)
    .key("waitlist_length").value(v.waitlist_length)
    .end_object();
}

namespace {

/// The session object inside a booking or a waitlist entry.
void write_session_ref(json_writer& w, const session& s, const zone& z) {
  w.begin_object()
    .key("coach").value(s.coach)
    .key("ends_at").time(z, s.ends_at)
    .key("id").value(s.id)
    .key("location_id").value(s.location_id)
    .key("starts_at").time(z, s.starts_at)
    .key("status").value(to_string(s.status))
    .key("title").value(s.title)
    .end_object();
}

template <class F>
std::string body_of(F&& write) {
  std::string out;
  json_writer w{out};
  write(w);
  return out;
}

} // namespace

void write_booking(json_writer& w, const booking& b, const zone& z, lang l, instant now, bool with_reason) {
  auto st = state_of(b.status, b.sess->starts_at, now);
  w.begin_object()
    .key("cancelled_by").value_or_null(to_string(b.cancelled_by))
    .key("created_at").time(z, b.created_at)
    .key("credit_refunded").value(b.credit_refunded)
    .key("id").value(b.id);
  if (with_reason)
    w.key("leave_reason").value_or_null(b.leave_reason.view());
  w.key("session");
  write_session_ref(w, *b.sess, z);
  w.key("state").value(to_string(st))
    .key("state_label").value(state_label(st, l))
    .key("status").value(to_string(b.status))
    .key("updated_at").time(z, b.updated_at)
    .key("via_waitlist").value(b.via_waitlist)
    .end_object();
}

void write_entry(json_writer& w, const waitlist_entry& e, const zone& z, lang l, instant now, std::chrono::seconds cutoff) {
  bool waiting = e.status == waitlist_status::waiting;
  auto st = waiting ? waitlist_state_of(*e.sess, now, cutoff) : waitlist_state{};
  w.begin_object().key("id").value(e.id).key("joined_at").time(z, e.joined_at).key("position");
  waiting ? w.value(e.position) : w.null();
  w.key("session");
  write_session_ref(w, *e.sess, z);
  w.key("state");
  waiting ? w.value(to_string(st)) : w.null();
  w.key("state_label");
  waiting ? w.value(waitlist_state_label(st, l)) : w.null();
  w.key("status").value(to_string(e.status)).end_object();
}

void write_stats(json_writer& w, const stats& s) {
  w.begin_object()
    .key("cancelled").value(s.cancelled)
    .key("completed").value(s.completed)
    .key("credits_remaining").value(s.credits_remaining)
    .key("leave").value(s.leave)
    .key("leave_quota_remaining").value(s.leave_quota_remaining)
    .key("upcoming").value(s.upcoming)
    .end_object();
}

std::string booking_body(const booking& b, const zone& z, lang l, instant now, bool with_reason) {
  return body_of([&](json_writer& w) { write_booking(w, b, z, l, now, with_reason); });
}

std::string entry_body(const waitlist_entry& e, const zone& z, lang l, instant now, std::chrono::seconds cutoff) {
  return body_of([&](json_writer& w) { write_entry(w, e, z, l, now, cutoff); });
}

std::string locations_body(const std::vector<location>& ls) {
  return body_of([&](json_writer& w) {
    w.begin_object().key("locations");
    write_locations(w, ls);
    w.end_object();
  });
}

std::string sessions_body(const std::vector<session_view>& ss, const zone& z) {
  return body_of([&](json_writer& w) {
    w.begin_object().key("sessions").begin_array();
    for (const auto& s : ss)
      write_session_view(w, s, z);
    w.end_array().end_object();
  });
}

std::string error_body(error_code e, lang l) {
  return body_of([&](json_writer& w) {
    w.begin_object().key("error").begin_object()
      .key("code").value(to_string(e))
      .key("message").value(error_message(e, l))
      .end_object().end_object();
  });
}

} // namespace booking
