// The per-user cache actor: answers page requests from its cache while fresh; on a miss it starts
// exactly one store load and parks every request that arrives meanwhile, then answers all of them.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "actors/context.hpp"
#include "actors/defaults.hpp"
#include "actors/interfaces.hpp"
#include "model/page.hpp"
#include "telemetry/child_span.hpp"

namespace booking {

struct user_cache_state {
  static inline const char* name = "user_cache";

  /// A parked request and where it is answered.
  struct waiter {
    page_query q;
    reply_ptr reply;
    child_span span; // this hop, when the request is sampled
    cache_result result = cache_result::hit;
    bool started_load = false; // its span is the parent of the load that answers it
  };

  struct rendered {
    lang language;
    date_range range;
    location_list locations;
    body_ptr body;
    instant valid_until;
  };

  user_cache_actor::stateful_pointer<user_cache_state> self = nullptr;
  std::shared_ptr<const cache_context> ctx;
  id_type user = 0;
  std::uint64_t incarnation = 0; // this actor's claim on the user's published slot

  /// Bumped by every invalidation: a load that began under an older generation never fills the cache.
  std::uint64_t generation = 0;
  bool loading = false;
  bool stopping = false;
  std::shared_ptr<const user_snapshot> snap;
  std::uint64_t snap_epoch = 0; // the write epoch read before `snap`'s load began
  std::chrono::steady_clock::time_point fresh_until; // TTL, shortened by up to 20% per user and load
  std::uint64_t loads = 0;
  std::vector<rendered> bodies; // rendered from `snap`, a few (language, range) pairs
  std::vector<waiter> waiters;

  /// The running load's span. Recorded whenever a sampled request waits for the load: a child of
  /// the request that started it, or else a root of its own that the sampled requests link to.
  child_span load_span;
  std::int64_t load_started_ns = 0;
  /// The last finished load's span ids (zeros: not recorded), for the links of its waiters.
  trace_id load_trace{};
  span_id load_id{};

  void on_page(waiter w);
  void on_loaded(std::uint64_t gen, std::uint64_t epoch, const load_result& r);
  void on_invalidate(const written_snapshot& w = {});
  void on_stop();

private:
  bool fresh_for(const page_query& q) const;
  /// Makes `s` (read with write epoch `epoch`) the cached snapshot, with a new TTL and no bodies.
  void keep(std::shared_ptr<const user_snapshot> s, std::uint64_t epoch);
  void start_load();
  void answer(waiter& w, const std::shared_ptr<const user_snapshot>& from);
  void fail(waiter& w, error_code e);
  body_ptr body_for(const page_query& q, const std::shared_ptr<const user_snapshot>& from);
  void quit_if_done();
  /// Publishes the bodies rendered from the current snapshot (HTTP threads serve them directly).
  void publish();
  void withdraw();
  // Telemetry, one line at each call site.
  void start_load_span(waiter& trigger);
  void trace_load_for(const waiter& w);
  void end_load_span(const load_result& r);
  void end_span(waiter& w);
};

user_cache_actor::behavior_type user_cache(user_cache_actor::stateful_pointer<user_cache_state> self,
                                           std::shared_ptr<const cache_context> ctx, id_type user,
                                           std::uint64_t incarnation = 0);

} // namespace booking
