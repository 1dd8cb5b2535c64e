// The actor core assembled: store pool, directory shards, location cache, invalidation pool.
// The HTTP front-end talks only to this.
#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>

#include "actors/context.hpp"
#include "actors/defaults.hpp"
#include "actors/interfaces.hpp"
#include "actors/invalidator.hpp"

namespace booking {

struct core_options {
  store_options store;
  std::size_t store_threads = defaults::store_threads(); // 0: manual pool (deterministic tests)
  std::chrono::seconds cache_ttl = defaults::cache_ttl;
  std::chrono::seconds cache_idle = defaults::cache_idle;
  std::size_t cache_max_users = defaults::cache_max_users;
  std::size_t invalidation_workers = defaults::invalidation_workers;
  std::size_t invalidation_queue = defaults::invalidation_queue;
  std::size_t directory_shards = defaults::directory_shards;
  std::chrono::seconds location_ttl = defaults::location_ttl;
  std::string timezone = "Asia/Taipei";
  std::chrono::seconds waitlist_cutoff{std::chrono::hours{14}};
  tracer* tracing = nullptr; // owned by the caller; null: no spans
};

class core {
public:
  core(caf::actor_system& sys, const core_options& opts, ::booking::metrics& m);
  ~core();

  const user_directory_actor& directory_for(id_type user) const;
  const std::vector<user_directory_actor>& directories() const { return directories_; }
  const location_cache_actor& locations() const { return locations_; }
  invalidation_pool& invalidations() { return *invalidations_; }
  write_epochs& epochs() { return *epochs_; }
  store_pool& pool() { return *pool_; }
  const zone& tz() const { return tz_; }
  ::booking::metrics& metrics() { return metrics_; }
  const published_pages& published() const { return *published_; }

  /// Sends a page request the published entries could not answer: straight to the user's actor
  /// when `owner` names it (from `published().find`), else to the user's directory. An actor that
  /// stopped meanwhile drops the message unanswered; the request then goes to the directory, which
  /// spawns a new actor for it.
  void ask_page(page_query q, reply_ptr reply, const user_cache_actor& owner);

  /// Asks the location cache for the list (answered into `reply`), as a hand-off of `trace`: the
  /// cache may answer after the caller gave up waiting.
  void ask_locations(reply_ptr reply, const hop& trace);

  /// After a committed write of `user`: fence read-your-writes, then queue the cleanup (traced in
  /// `trace`, the write's, when given).
  void after_write(id_type user, const trace_context* trace = nullptr);
  /// After a member's own committed write whose epoch `written.epoch` was already bumped (inside the
  /// write, under the writer lock): queue the cleanup, which hands the member's cache the snapshot
  /// the write read.
  void after_own_write(id_type user, written_snapshot written, const trace_context* trace = nullptr);

  /// Drains the invalidation queue (bounded), stops every actor, joins the store threads.
  /// Returns whether the queue drained in time.
  bool shutdown(std::chrono::milliseconds drain_timeout = defaults::drain_timeout);

private:
  ::booking::metrics& metrics_;
  zone tz_;
  std::unique_ptr<write_epochs> epochs_;
  std::unique_ptr<store_pool> pool_;
  std::unique_ptr<published_pages> published_;
  std::shared_ptr<cache_context> ctx_;
  std::future<void> ctx_released_; // ready once no actor holds the context any more
  std::vector<user_directory_actor> directories_;
  location_cache_actor locations_;
  std::unique_ptr<invalidation_pool> invalidations_;
  bool stopped_ = false;
};

} // namespace booking
