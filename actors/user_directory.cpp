#include "actors/user_directory.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "actors/defaults.hpp"
#include "actors/user_cache.hpp"
#include "telemetry/child_span.hpp"

namespace booking {

user_cache_actor& user_directory_state::find_or_spawn(id_type user, bool& spawned) {
  auto now = std::chrono::steady_clock::now();
  auto i = users.find(user);
  spawned = i == users.end();
  if (!spawned) {
    lru.splice(lru.begin(), lru, i->second.lru_pos);
    i->second.last_used = now;
    return i->second.hdl;
  }
  make_room();
  lru.push_front(user);
  auto incarnation = ctx->published->next_incarnation();
  // Lazy: the actor is first scheduled by the request that follows, not once more to start empty.
  auto hdl = self->spawn<caf::lazy_init>(user_cache, ctx, user, incarnation);
  ctx->published->claim(user, incarnation, hdl); // before the actor can publish
  ctx->metrics->user_actor_started();
  return users.emplace(user, entry{std::move(hdl), lru.begin(), now}).first->second.hdl;
}

void user_directory_state::make_room() {
  // A few second chances per call: when every cached user is busy, a spawn still costs a bounded
  // number of steps (it then evicts the least recently seen by the directory, as plain LRU would).
  std::size_t second_chances = std::min<std::size_t>(users.size(), 16);
  while (!lru.empty() && users.size() >= ctx->max_users) {
    auto user = lru.back();
    auto& e = users.at(user);
    auto asked = ctx->published->last_asked(user);
    if (asked > e.last_used && second_chances > 0) {
      --second_chances;
      e.last_used = asked;
      lru.splice(lru.begin(), lru, e.lru_pos);
      continue;
    }
    evict(user, false);
  }
}

void user_directory_state::evict(id_type user, bool idle) {
  auto i = users.find(user);
  if (i == users.end())
    return;
  // The actor finishes what it has parked before it quits; new requests get a fresh actor.
  self->send(i->second.hdl, stop_atom::value);
  ctx->published->release(user); // from now on its entry is neither served nor put back
  lru.erase(i->second.lru_pos);
  users.erase(i);
  ctx->metrics->user_actor_stopped(idle ? eviction_reason::idle : eviction_reason::capacity);
}

user_cache_actor& user_directory_state::forward(page_query& q) {
  // The user actor answers after this hop has ended: a hand-off (PRODUCER, then CONSUMER).
  child_span span{ctx->tracing, "user_directory page", q.trace, span_kind::producer};
  bool spawned = false;
  auto& hdl = find_or_spawn(q.user_id, spawned);
  q.locations = locations;
  span.set("booking.actor.spawned", spawned);
  if (span)
    q.trace = span.hand_off();
  return hdl;
}

user_directory_state::~user_directory_state() {
  if (!ctx)
    return;
  ctx->metrics->user_actors_gone(static_cast<double>(users.size()));
  for (auto& kv : users) {
    ctx->published->release(kv.first);
    caf::anon_send_exit(kv.second.hdl, caf::exit_reason::user_shutdown);
  }
}

void user_directory_state::sweep_idle() {
  auto cutoff = std::chrono::steady_clock::now() - ctx->idle;
  while (!lru.empty()) {
    auto user = lru.back();
    auto& e = users.at(user);
    if (e.last_used > cutoff)
      break;
    // Pages answered on the HTTP threads never pass through here: a recent one is use. The entry
    // moves to the front with that time, so each is looked at once per sweep.
    auto asked = ctx->published->last_asked(user);
    if (asked > cutoff) {
      e.last_used = asked;
      lru.splice(lru.begin(), lru, e.lru_pos);
      continue;
    }
    evict(user, true);
  }
}

user_directory_actor::behavior_type user_directory(user_directory_actor::stateful_pointer<user_directory_state> self,
                                                   std::shared_ptr<const cache_context> ctx) {
  self->state.self = self;
  self->state.ctx = std::move(ctx);
  self->delayed_send(self, defaults::idle_sweep_interval, sweep_atom::value);
  return {
    [self](page_atom, page_query& q, reply_ptr& reply) {
      auto& hdl = self->state.forward(q);
      self->send(hdl, page_atom::value, std::move(q), std::move(reply));
    },
    [self](invalidate_atom, id_type user, const hop& h, written_snapshot& w) {
      // Each hop of a write's cleanup is a CONSUMER of the write's hand-off (its PRODUCER span on
      // the HTTP thread): the cleanup runs after the answer, and only a CONSUMER of a PRODUCER may
      // end after its parent.
      auto& st = self->state;
      child_span span{st.ctx->tracing, "user_directory invalidate", h, span_kind::consumer};
      auto i = st.users.find(user);
      span.set("booking.actor.cached", i != st.users.end());
      if (i != st.users.end())
        self->send(i->second.hdl, invalidate_atom::value, hop::sent(h.ctx), std::move(w));
    },
    [self](locations_atom, location_list& ls) { self->state.locations = std::move(ls); },
    [self](sweep_atom) {
      self->state.sweep_idle();
      self->delayed_send(self, defaults::idle_sweep_interval, sweep_atom::value);
    },
    [self](count_atom) { return static_cast<std::uint64_t>(self->state.users.size()); },
  };
}

} // namespace booking
