#include "http/rate_limit.hpp"

#include <algorithm>
#include <cmath>

namespace booking {

rate_limiter::rate_limiter(double per_second, double burst) : rate_(per_second), burst_(std::max(1.0, burst)) {}

bool rate_limiter::allow(id_type user) {
  if (rate_ <= 0)
    return true;
  auto now = std::chrono::steady_clock::now();
  auto& sh = shards_[static_cast<std::uint64_t>(user) % shard_count];
  std::lock_guard<std::mutex> g{sh.m};
  if (sh.buckets.size() >= max_per_shard) {
    // Bounded memory: forget buckets that have refilled completely (they carry no state).
    for (auto i = sh.buckets.begin(); i != sh.buckets.end();) {
      auto full = i->second.tokens + rate_ * std::chrono::duration<double>(now - i->second.last).count() >= burst_;
      i = full ? sh.buckets.erase(i) : std::next(i);
    }
  }
  auto [it, fresh] = sh.buckets.try_emplace(user, bucket{burst_, now});
  auto& b = it->second;
  if (!fresh) {
    b.tokens = std::min(burst_, b.tokens + rate_ * std::chrono::duration<double>(now - b.last).count());
    b.last = now;
  }
  if (b.tokens < 1)
    return false;
  b.tokens -= 1;
  return true;
}

int rate_limiter::retry_after_seconds() const {
  return rate_ <= 0 ? 1 : std::max(1, static_cast<int>(std::ceil(1.0 / rate_)));
}

} // namespace booking
