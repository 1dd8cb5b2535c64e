// What user actors let HTTP threads serve without a message (SPEC §1: "a cache hit crosses no
// thread"). Each user's actor stays the only writer of that user's cache; after it rendered a body
// from its snapshot it publishes an immutable, epoch-stamped entry here, and an HTTP thread whose
// request finds a fresh body in it answers on its own thread. Everything else — miss, stale, a new
// range or location list, eviction, invalidation, failure — goes to the actor as before.
//
// Why a published body is never wrong (docs/DESIGN.md, "The warm path"):
//  - read-your-writes / everyone affected: a body is served only if the epoch its snapshot's load
//    read is >= the user's write epoch read by the request; every write bumps the epochs of every
//    user it changed before its 2xx, so no body loaded before a write is served after it;
//  - no stale refill: the actor publishes only bodies of the snapshot its generation check accepted;
//  - eviction and shutdown: the directory claims a slot (an incarnation number) when it spawns a
//    user's actor and releases it when it evicts it; publishing and withdrawing need the current
//    incarnation, so an evicted actor can neither keep nor put back an entry.
// A slot also names its user's actor: a request its entry cannot answer goes straight to that actor,
// skipping the directory (`core::ask_page` says what happens when the actor stopped meanwhile).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "actors/interfaces.hpp"

namespace booking {

struct published_body {
  lang language = lang::en;
  date_range range{};
  location_list locations;
  body_ptr body;
  instant valid_until{}; // a booked session starts then: states change, render again
};

struct published_entry {
  std::uint64_t epoch = 0; // the write epoch read before the snapshot's load began
  std::chrono::steady_clock::time_point fresh_until{};
  std::vector<published_body> bodies;
};

class published_pages {
public:
  published_pages() = default;
  published_pages(const published_pages&) = delete;
  published_pages& operator=(const published_pages&) = delete;

  /// What a request found: a body it may be answered with on its own thread, else the user's
  /// actor when one owns the slot (null handle: ask the directory).
  struct lookup {
    body_ptr body;
    user_cache_actor owner;
  };

  /// `locs` is the list the directory would attach (`current_locations()`): compared by address,
  /// which is safe because a published body keeps its list alive.
  lookup find(id_type user, std::uint64_t request_epoch, lang l, const date_range& r,
              const std::vector<location>* locs, std::chrono::steady_clock::time_point now,
              instant wall_now) const;

  /// A new incarnation number, for the actor the directory is about to spawn.
  std::uint64_t next_incarnation() { return next_incarnation_.fetch_add(1, std::memory_order_relaxed); }
  /// The directory spawned `owner` as `user`'s actor of `incarnation`: it owns the slot (no entry yet).
  void claim(id_type user, std::uint64_t incarnation, user_cache_actor owner);
  /// The directory evicted `user`'s actor (or stops): the slot and its entry are gone.
  void release(id_type user);
  /// The actor of `incarnation` publishes (replaces) its entry; ignored unless it still owns the slot.
  void publish(id_type user, std::uint64_t incarnation, std::shared_ptr<const published_entry> e);
  /// The actor of `incarnation` withdraws its entry (invalidation, new snapshot, stop).
  void withdraw(id_type user, std::uint64_t incarnation);

  /// The location list the directories attach to page requests now (set by the location cache
  /// before it sends the list to them). One atomic load, no lock.
  const std::vector<location>* current_locations() const { return current_raw_.load(std::memory_order_acquire); }
  void set_locations(location_list ls);
  /// The list `current_locations()` points to, kept alive by the caller.
  location_list locations() const;

  std::size_t size() const;
  /// When a request last looked for `user`'s page here (epoch of the clock: never, or no slot). The
  /// directory's idle sweep counts it as use, since answers given here never reach the directory.
  std::chrono::steady_clock::time_point last_asked(id_type user) const;

private:
  struct slot {
    std::uint64_t incarnation = 0;
    std::shared_ptr<const published_entry> entry;
    user_cache_actor owner;
    /// The last request that looked here (served or not): use the directory does not see.
    mutable std::chrono::steady_clock::time_point last_asked{};
  };
  struct shard {
    mutable std::mutex m;
    std::unordered_map<id_type, slot> map;
  };
  static constexpr std::size_t shard_count = 64;
  shard& shard_of(id_type user) { return shards_[static_cast<std::uint64_t>(user) % shard_count]; }
  const shard& shard_of(id_type user) const { return shards_[static_cast<std::uint64_t>(user) % shard_count]; }

  std::array<shard, shard_count> shards_;
  std::atomic<std::uint64_t> next_incarnation_{1};
  mutable std::mutex locations_m_;
  location_list locations_; // keeps `current_raw_` alive
  std::atomic<const std::vector<location>*> current_raw_{nullptr};
};

} // namespace booking
