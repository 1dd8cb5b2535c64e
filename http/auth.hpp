// Bearer-token authentication: tokens are looked up by SHA-256, compared in constant time, and
// the results (also "no such token") cached for a short while so a stampede costs no store reads.
// A revocation makes the cache forget the token before its 2xx leaves (`forget`), so a revoked
// token is refused on the very next request on any thread; a lookup that raced with the
// revocation does not put its answer back (the generation check below).
//
// Concurrent misses on one token share one store lookup (a member's app opening several requests at
// once, or a stampede of new members): the first registers its lookup, the others wait for its
// answer. A request that begins after a revocation never joins a lookup begun before it (each
// lookup carries the generation it started in), so "refused on the very next request" holds.
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>
#include <atomic>

#include "model/token_hash.hpp"
#include "model/types.hpp"

namespace booking {

class authenticator {
public:
  using lookup = std::function<std::optional<token_info>(const std::string& token_hash)>;

  authenticator(lookup fn, std::chrono::seconds ttl, std::chrono::seconds negative_ttl);

  /// The principal of an `Authorization` header value, or nullopt (missing, malformed, unknown,
  /// revoked). Throws what `lookup` throws (a store failure is not an authentication failure).
  std::optional<token_info> authenticate(const std::string& header);

  /// Drops the cached answers for these token hashes (revoked tokens, a deactivated member's), and
  /// keeps lookups that began before this call from caching what they read.
  void forget(const std::vector<std::string>& token_hashes);

private:
  struct entry {
    std::optional<token_info> who;
    std::chrono::steady_clock::time_point expires;
  };
  /// Keyed by the digest itself (32 bytes in the node, no string to hash or follow); its first
  /// bytes are already uniformly distributed.
  struct digest_hash {
    std::size_t operator()(const sha256_digest& d) const noexcept;
  };
  /// Compares in constant time.
  struct digest_equal {
    bool operator()(const sha256_digest& a, const sha256_digest& b) const noexcept;
  };
  /// A store lookup in progress, which later misses on the same token wait for.
  struct pending {
    std::uint64_t generation;
    std::shared_future<std::optional<token_info>> answer;
  };
  struct shard {
    std::mutex m;
    std::unordered_map<sha256_digest, entry, digest_hash, digest_equal> map;
    std::unordered_map<sha256_digest, std::shared_ptr<const pending>, digest_hash, digest_equal> lookups;
  };
  /// How long a request waits for another's lookup of its token before it looks up itself.
  static constexpr std::chrono::seconds join_wait{30};
  /// 64 shards: an HTTP thread preempted while it holds one lock stalls fewer others.
  static constexpr std::size_t shard_count = 64;
  static constexpr std::size_t max_per_shard = 1 << 14; // 1 M in all

  lookup fn_;
  std::chrono::seconds ttl_, negative_ttl_;
  std::array<shard, shard_count> shards_;
  /// Bumped by every `forget`: a lookup caches its answer only if no revocation happened meanwhile.
  std::atomic<std::uint64_t> generation_{0};
};

} // namespace booking
