// Every typed actor interface of the core, one comment a handler.
#pragma once

#include <cstdint>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/messages.hpp"

namespace booking {

/// Owns one user's cached page data; the request coalescer of SPEC §1.
using user_cache_actor = caf::typed_actor<
  // A page, answered into the requester's reply (an HTTP thread's slot or an actor's message).
  caf::reacts_to<page_atom, page_query, reply_ptr>,
  // A write changed this user: drop cached data, refuse to cache loads that began before. The hop
  // is the write's hand-off (its PRODUCER span, when the write's trace is sampled). The member's own
  // write also hands the snapshot it left, kept unless a later write was fenced meanwhile.
  caf::reacts_to<invalidate_atom, hop, written_snapshot>,
  // A store load finished: (generation, epoch read before the load, result).
  caf::reacts_to<loaded_atom, std::uint64_t, std::uint64_t, load_result>,
  // Stop once nothing is pending (eviction, idle).
  caf::reacts_to<stop_atom>>;

/// Finds or spawns user actors, forwards to them, evicts idle and least recently used ones.
using user_directory_actor = caf::typed_actor<
  // Route a page request to the user's actor.
  caf::reacts_to<page_atom, page_query, reply_ptr>,
  // Route an invalidation; a user without an actor has nothing cached.
  caf::reacts_to<invalidate_atom, id_type, hop, written_snapshot>,
  // The location cache publishes a new list.
  caf::reacts_to<locations_atom, location_list>,
  // Periodic: stop user actors idle longer than the limit.
  caf::reacts_to<sweep_atom>,
  // How many user actors this directory holds.
  caf::replies_to<count_atom>::with<std::uint64_t>>;

/// Owns the location list: refreshed on TTL or on request, published to directories.
using location_cache_actor = caf::typed_actor<
  // The list as a `{"locations": [...]}` body (waits for the first load).
  caf::reacts_to<locations_atom, reply_ptr, hop>,
  // Reload from the store now.
  caf::reacts_to<refresh_atom>,
  // Reload with a load that starts after this message, publish it to the directories, then answer
  // the reply with the new body (an admin changed a location: no page may show the old list after).
  caf::reacts_to<refresh_atom, reply_ptr>,
  // A store load of the list finished.
  caf::reacts_to<loaded_atom, location_list>>;

/// One worker of the invalidation pool: forwards cleanup to the directory that owns the user.
using invalidator_actor = caf::typed_actor<
  caf::reacts_to<invalidate_atom, id_type, hop, written_snapshot>>;

} // namespace booking
