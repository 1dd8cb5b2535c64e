// Bearer-token authentication: tokens are looked up by SHA-256, compared in constant time, and
// the results (also "no such token") cached for a short while so a stampede costs no store reads.
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "model/types.hpp"

namespace booking {

class authenticator {
public:
  using lookup = std::function<std::optional<token_info>(const std::string& token_hash)>;

  authenticator(lookup fn, std::chrono::seconds ttl, std::chrono::seconds negative_ttl);

  /// The principal of an `Authorization` header value, or nullopt (missing, malformed, unknown,
  /// revoked). Throws what `lookup` throws (a store failure is not an authentication failure).
  std::optional<token_info> authenticate(const std::string& header);

private:
  struct entry {
    std::string hash;
    std::optional<token_info> who;
    std::chrono::steady_clock::time_point expires;
  };
  struct shard {
    std::mutex m;
    std::unordered_map<std::string, entry> map;
  };
  static constexpr std::size_t shard_count = 16;
  static constexpr std::size_t max_per_shard = 1 << 16;

  lookup fn_;
  std::chrono::seconds ttl_, negative_ttl_;
  std::array<shard, shard_count> shards_;
};

} // namespace booking
