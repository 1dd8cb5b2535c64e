// A user directory shard: finds or spawns the cache actor of a user, forwards requests and
// invalidations to it, and bounds memory: idle actors stop after `idle`, and at most `max_users`
// live (the least recently used go first).
#pragma once

#include <chrono>
#include <list>
#include <memory>
#include <unordered_map>

#include "actors/context.hpp"
#include "actors/interfaces.hpp"

namespace booking {

struct user_directory_state {
  static inline const char* name = "user_directory";

  struct entry {
    user_cache_actor hdl;
    std::list<id_type>::iterator lru_pos;
    std::chrono::steady_clock::time_point last_used;
  };

  user_directory_actor::stateful_pointer<user_directory_state> self = nullptr;
  std::shared_ptr<const cache_context> ctx;
  std::unordered_map<id_type, entry> users;
  std::list<id_type> lru; // front: most recently used
  location_list locations;

  /// The directory's last step: its users stop with it, and the gauge and the published pages go
  /// with them. CAF destroys the state before it unregisters the actor and runs its attachables,
  /// so this runs while what `ctx` points to is still alive (core waits for every state that
  /// holds it).
  ~user_directory_state();

  /// The user's actor, spawned if needed; marks it most recently used.
  user_cache_actor& find_or_spawn(id_type user, bool& spawned);
  void sweep_idle();
  /// Stops least recently used actors until there is room for one more. Pages answered on the HTTP
  /// threads and requests sent straight to a user's actor do not pass through here: a user asked
  /// since the directory last saw them is moved to the front instead (at most 16 per call).
  void make_room();
  /// The user's actor, with the request prepared for it: the location list, and (sampled) this
  /// hop's span as the parent of the next.
  user_cache_actor& forward(page_query& q);
  void evict(id_type user, bool idle);
};

user_directory_actor::behavior_type user_directory(user_directory_actor::stateful_pointer<user_directory_state> self,
                                                   std::shared_ptr<const cache_context> ctx);

} // namespace booking
