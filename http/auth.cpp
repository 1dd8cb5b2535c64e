#include "http/auth.hpp"

#include <cstdint>
#include <cstring>

#include "http/guard.hpp"
#include "model/token_hash.hpp"

namespace booking {

authenticator::authenticator(lookup fn, std::chrono::seconds ttl, std::chrono::seconds negative_ttl)
  : fn_(std::move(fn)), ttl_(ttl), negative_ttl_(negative_ttl) {}

std::optional<token_info> authenticator::authenticate(const std::string& header) {
  // `Bearer` in any case, then one or more spaces, then the token.
  if (header.size() < 8 || header.size() > 512)
    return std::nullopt;
  static const char scheme[] = "bearer";
  for (std::size_t i = 0; i < 6; ++i) {
    auto c = header[i];
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
    if (c != scheme[i])
      return std::nullopt;
  }
  auto start = header.find_first_not_of(' ', 6);
  if (header[6] != ' ' || start == std::string::npos)
    return std::nullopt;
  auto token = std::string_view{header}.substr(start);
  if (!token_chars(token))
    return std::nullopt;
  auto digest = sha256(token);
  auto& sh = shards_[digest[0] % shard_count];
  auto now = std::chrono::steady_clock::now();
  std::shared_ptr<const pending> joined, mine;
  std::optional<std::promise<std::optional<token_info>>> answer; // made on a miss only: a promise allocates
  std::uint64_t gen = 0;
  {
    std::lock_guard<std::mutex> g{sh.m};
    auto i = sh.map.find(digest);
    if (i != sh.map.end() && i->second.expires > now)
      return i->second.who;
    gen = generation_.load();
    auto p = sh.lookups.find(digest);
    if (p != sh.lookups.end() && p->second->generation == gen) {
      joined = p->second;
    } else {
      answer.emplace();
      mine = std::make_shared<const pending>(pending{gen, answer->get_future().share()});
      sh.lookups.insert_or_assign(digest, mine);
    }
  }
  if (joined) {
    if (joined->answer.wait_for(join_wait) == std::future_status::ready)
      return joined->answer.get(); // rethrows the store's failure, as a lookup of our own would
    return fn_(to_hex(digest)); // the lookup we waited for is stuck: try once ourselves
  }
  auto retire = [&] { // under the shard lock: the finished lookup takes no more joiners
    if (auto p = sh.lookups.find(digest); p != sh.lookups.end() && p->second == mine)
      sh.lookups.erase(p);
  };
  std::optional<token_info> who;
  try {
    who = fn_(to_hex(digest));
  } catch (...) {
    answer->set_exception(std::current_exception());
    std::lock_guard<std::mutex> g{sh.m};
    retire();
    throw;
  }
  answer->set_value(who);
  std::lock_guard<std::mutex> g{sh.m};
  retire();
  if (generation_.load() != gen)
    return who; // a revocation committed during the lookup: answer, but do not cache
  if (sh.map.size() >= max_per_shard)
    sh.map.clear(); // bounded: a flood of random tokens cannot grow the cache
  sh.map[digest] = entry{who, now + (who ? ttl_ : negative_ttl_)};
  return who;
}

std::size_t authenticator::digest_hash::operator()(const sha256_digest& d) const noexcept {
  std::size_t h;
  std::memcpy(&h, d.data() + 8, sizeof h); // byte 0 picks the shard
  return h;
}

bool authenticator::digest_equal::operator()(const sha256_digest& a, const sha256_digest& b) const noexcept {
  return constant_time_equal(a, b);
}

void authenticator::forget(const std::vector<std::string>& token_hashes) {
  // Bump first: a lookup that read the store before the revocation committed either sees the new
  // generation under its shard lock and caches nothing, or cached before we erase below.
  generation_.fetch_add(1);
  for (const auto& hash : token_hashes) {
    auto digest = digest_from_hex(hash);
    if (!digest)
      continue; // not a hash this cache could hold
    auto& sh = shards_[(*digest)[0] % shard_count];
    std::lock_guard<std::mutex> g{sh.m};
    sh.map.erase(*digest);
  }
}

} // namespace booking
