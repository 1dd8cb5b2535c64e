// The authenticator in-process: concurrent misses on one token share one store lookup, a request
// that begins after a revocation never joins a lookup begun before it, and a failed lookup fails
// every request that waited for it.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <thread>
#include <vector>

#include "http/auth.hpp"
#include "model/token_hash.hpp"

using namespace booking;
using namespace std::chrono_literals;

namespace {

const std::string token = "tb_0123456789abcdef0123456789abcdef01234567";
const std::string header = "Bearer " + token;

/// Starts `n` threads that authenticate `header` and waits until each is about to call.
template <class F>
std::vector<std::thread> start_all(int n, std::atomic<int>& started, F f) {
  std::vector<std::thread> ts;
  for (int i = 0; i < n; ++i)
    ts.emplace_back([&, f, i] {
      ++started;
      f(i);
    });
  while (started.load() < n)
    std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(100ms); // into authenticate, waiting for the first lookup
  return ts;
}

} // namespace

TEST_CASE("authenticator: concurrent misses on one token make one store lookup, and all get its answer") {
  std::atomic<int> lookups{0};
  std::promise<void> gate;
  auto open = gate.get_future().share();
  authenticator auth{[&](const std::string& hash) -> std::optional<token_info> {
                       ++lookups;
                       CHECK(hash == sha256_hex(token));
                       open.wait();
                       return token_info{42, role::member};
                     },
                     60s, 5s};
  std::atomic<int> started{0};
  std::vector<std::optional<token_info>> got(16);
  auto ts = start_all(16, started, [&](int i) { got[i] = auth.authenticate(header); });
  gate.set_value();
  for (auto& t : ts)
    t.join();
  CHECK(lookups == 1);
  for (auto& g : got) {
    REQUIRE(g);
    CHECK(g->user_id == 42);
  }
  CHECK(auth.authenticate(header)->user_id == 42); // cached now
  CHECK(lookups == 1);
}

TEST_CASE("authenticator: a request after a revocation does not join a lookup begun before it") {
  std::atomic<int> lookups{0};
  std::promise<void> gate;
  auto open = gate.get_future().share();
  authenticator auth{[&](const std::string&) -> std::optional<token_info> {
                       if (++lookups == 1) { // the lookup that read before the revocation
                         open.wait();
                         return token_info{7, role::member};
                       }
                       return std::nullopt; // revoked
                     },
                     60s, 5s};
  std::optional<token_info> before;
  std::thread first{[&] { before = auth.authenticate(header); }};
  while (lookups.load() < 1)
    std::this_thread::sleep_for(1ms);
  auth.forget({sha256_hex(token)});
  // Begun after the revocation returned: its own lookup, which reads the revocation, without
  // waiting for the one begun before (still held at the gate).
  auto after = std::async(std::launch::async, [&] { return auth.authenticate(header); });
  bool own_lookup = after.wait_for(10s) == std::future_status::ready;
  CHECK(own_lookup);
  CHECK(lookups == 2);
  gate.set_value();
  CHECK(!after.get());
  first.join();
  REQUIRE(before); // it raced with the revocation: either answer is right, and it read first
  CHECK(!auth.authenticate(header)); // and the raced answer was not cached
}

TEST_CASE("authenticator: a failed lookup fails every request that waited for it, and is not cached") {
  std::atomic<int> lookups{0};
  std::promise<void> gate;
  auto open = gate.get_future().share();
  authenticator auth{[&](const std::string&) -> std::optional<token_info> {
                       if (++lookups == 1) {
                         open.wait();
                         throw std::runtime_error("database is locked");
                       }
                       return token_info{9, role::admin};
                     },
                     60s, 5s};
  std::atomic<int> started{0}, failed{0};
  auto ts = start_all(8, started, [&](int) {
    try {
      auth.authenticate(header);
    } catch (const std::runtime_error&) {
      ++failed;
    }
  });
  gate.set_value();
  for (auto& t : ts)
    t.join();
  CHECK(lookups == 1);
  CHECK(failed == 8);
  auto again = auth.authenticate(header); // a new lookup, which succeeds
  REQUIRE(again);
  CHECK(again->r == role::admin);
  CHECK(lookups == 2);
}

TEST_CASE("authenticator: many cached tokens, each answers its own user") {
  authenticator auth{[](const std::string& hash) -> std::optional<token_info> {
                       // The test's tokens are tb_<n> padded: the lookup finds n by its hash.
                       for (id_type n = 1; n <= 2000; ++n)
                         if (sha256_hex("tb_" + std::to_string(n) + std::string(30, 'x')) == hash)
                           return token_info{n, role::member};
                       return std::nullopt;
                     },
                     60s, 5s};
  for (int pass = 0; pass < 2; ++pass) // the first fills the cache, the second reads it
    for (id_type n = 1; n <= 2000; n += (pass == 0 ? 1 : 7)) {
      auto who = auth.authenticate("Bearer tb_" + std::to_string(n) + std::string(30, 'x'));
      REQUIRE(who);
      CHECK(who->user_id == n);
    }
  CHECK(!auth.authenticate("Bearer tb_2001" + std::string(30, 'x')));
}
