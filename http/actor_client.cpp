#include "http/actor_client.hpp"

#include <caf/send.hpp>

namespace booking {

actor_client::actor_client(::booking::core& c, std::chrono::milliseconds reply_timeout)
  : core_(c), timeout_(reply_timeout) {}

body_result actor_client::wait(const slot_ptr& slot) {
  auto r = slot->wait_for(timeout_);
  return r ? std::move(*r) : body_result{nullptr, error_code::unavailable};
}

body_result actor_client::page(page_query q) {
  q.epoch = core_.epochs().current(q.user_id);
  // The warm path: a body the user's actor published, fresh for this request, is answered here on
  // the HTTP thread — no message, no wake-up (actors/published_pages.hpp says why it is safe).
  auto& pub = core_.published();
  auto found = pub.find(q.user_id, q.epoch, q.language, q.range, pub.current_locations(),
                        std::chrono::steady_clock::now(), now_seconds());
  if (found.body) {
    core_.metrics().cache(cache_name::user_page, cache_result::hit);
    return body_result{std::move(found.body), error_code::none};
  }
  // Everything else goes to the user's actor: straight to it when it is known, else through the
  // user's directory (which spawns it).
  auto slot = std::make_shared<reply_slot>();
  core_.ask_page(std::move(q), reply_ptr{slot}, found.owner);
  return wait(slot);
}

body_result actor_client::locations(const hop& trace) {
  auto slot = std::make_shared<reply_slot>();
  core_.ask_locations(reply_ptr{slot}, trace);
  return wait(slot);
}

body_result actor_client::refresh_locations() {
  auto slot = std::make_shared<reply_slot>();
  caf::anon_send(core_.locations(), refresh_atom::value, reply_ptr{slot});
  return wait(slot);
}

} // namespace booking
