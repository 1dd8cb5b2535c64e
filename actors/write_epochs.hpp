// Per-user write epochs: the read-your-writes fence between the write path and user caches.
//
// After a write commits, the HTTP thread bumps the user's epoch *before* answering 2xx. A page
// request carries the epoch it read; a user actor serves a cached snapshot only if that snapshot's
// load began after the epoch it was asked for. So the next page after a 2xx write never shows
// pre-write data, even while the cleanup message is still queued (SPEC §5.2, §5.4, §5.5).
// Users share stripes by hash: a collision only causes an extra load, never a stale page.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "model/types.hpp"

namespace booking {

class write_epochs {
public:
  static constexpr std::size_t stripes = 1 << 16;

  std::uint64_t current(id_type user) const { return slots_[index(user)].load(std::memory_order_acquire); }
  /// Returns the new epoch.
  std::uint64_t bump(id_type user) { return slots_[index(user)].fetch_add(1, std::memory_order_acq_rel) + 1; }

private:
  static std::size_t index(id_type user) {
    auto x = static_cast<std::uint64_t>(user) * 0x9E3779B97F4A7C15ull;
    return static_cast<std::size_t>(x >> 48);
  }
  std::array<std::atomic<std::uint64_t>, stripes> slots_{};
};

} // namespace booking
