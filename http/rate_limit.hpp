// Per-user rate limit: a token bucket per acting user, in 64 locked shards. A user over the limit
// gets 429 `rate_limited` with Retry-After; other users never share a bucket with them.
#pragma once

#include <array>
#include <chrono>
#include <mutex>
#include <unordered_map>

#include "model/types.hpp"

namespace booking {

class rate_limiter {
public:
  /// `per_second` tokens refill each second up to `burst`; per_second == 0 disables the limit.
  rate_limiter(double per_second, double burst);

  /// Takes one token of `user`; false when the bucket is empty.
  bool allow(id_type user);
  /// Whole seconds until one token is back (for Retry-After).
  int retry_after_seconds() const;

private:
  struct bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  struct shard {
    std::mutex m;
    std::unordered_map<id_type, bucket> buckets;
  };
  /// 64 shards: an HTTP thread preempted while it holds one lock stalls fewer others.
  static constexpr std::size_t shard_count = 64;
  static constexpr std::size_t max_per_shard = 1 << 14; // 1 M in all

  double rate_, burst_;
  std::array<shard, shard_count> shards_;
};

} // namespace booking
