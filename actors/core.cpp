#include "actors/core.hpp"

#include <caf/all.hpp>

#include "actors/location_cache.hpp"
#include "actors/user_directory.hpp"
#include "telemetry/child_span.hpp"
#include "telemetry/log.hpp"

namespace booking {

core::core(caf::actor_system& sys, const core_options& opts, ::booking::metrics& m)
  : metrics_(m), tz_(opts.timezone), epochs_(std::make_unique<write_epochs>()),
    pool_(std::make_unique<store_pool>(opts.store, opts.store_threads)) {
  // `--cache-max-users` is a hard cap: never more shards than users allowed, and each shard's cap is
  // the floor of its share, so the shards together never hold more than the cap.
  auto max_users = std::max<std::size_t>(1, opts.cache_max_users);
  auto shards = std::min(max_users, std::max<std::size_t>(1, opts.directory_shards));
  // The context's deleter tells the destructor when the last actor that shares it has exited.
  auto released = std::make_shared<std::promise<void>>();
  ctx_released_ = released->get_future();
  ctx_ = std::shared_ptr<cache_context>(new cache_context, [released](cache_context* p) {
    delete p;
    released->set_value();
  });
  ctx_->pool = pool_.get();
  ctx_->tz = &tz_;
  ctx_->metrics = &metrics_;
  ctx_->epochs = epochs_.get();
  ctx_->ttl = opts.cache_ttl;
  ctx_->idle = opts.cache_idle;
  ctx_->max_users = max_users / shards;
  ctx_->location_ttl = opts.location_ttl;
  ctx_->tracing = opts.tracing;
  ctx_->waitlist_cutoff = opts.waitlist_cutoff;
  published_ = std::make_unique<published_pages>();
  ctx_->published = published_.get();
  std::shared_ptr<const cache_context> cctx = ctx_;
  for (std::size_t i = 0; i < shards; ++i)
    directories_.push_back(sys.spawn(user_directory, cctx));
  locations_ = sys.spawn(location_cache, cctx, directories_);
  invalidations_ = std::make_unique<invalidation_pool>(
    sys, opts.invalidation_workers, opts.invalidation_queue,
    [this](id_type user) { return directory_for(user); }, metrics_, opts.tracing);
}

core::~core() {
  shutdown();
  // Directories, users and the location cache exit asynchronously and use what core owns (the pool,
  // the epochs, the published pages) until their state is gone: wait, bounded, for the last of them.
  ctx_.reset();
  if (ctx_released_.wait_for(defaults::actors_stop_timeout) != std::future_status::ready)
    log_warn("actors still running at core shutdown").kv("waited_ms", defaults::actors_stop_timeout.count());
}

const user_directory_actor& core::directory_for(id_type user) const {
  return directories_[static_cast<std::uint64_t>(user) % directories_.size()];
}

namespace {

/// The reply of a request sent straight to a user's actor. If that actor has stopped, CAF drops the
/// message and this reply with it, undelivered: it then sends the request on to the directory.
class redirect_if_dropped final : public page_reply {
public:
  redirect_if_dropped(reply_ptr inner, page_query q, user_directory_actor directory)
    : inner_(std::move(inner)), q_(std::move(q)), directory_(std::move(directory)) {}

  ~redirect_if_dropped() override {
    if (!delivered())
      caf::anon_send(directory_, page_atom::value, std::move(q_), std::move(inner_));
  }

private:
  void hand_over(body_result r) override { inner_->deliver(std::move(r)); }

  reply_ptr inner_;
  page_query q_;
  user_directory_actor directory_;
};

} // namespace

void core::ask_page(page_query q, reply_ptr reply, const user_cache_actor& owner) {
  auto& directory = directory_for(q.user_id);
  if (!owner) {
    caf::anon_send(directory, page_atom::value, std::move(q), std::move(reply));
    return;
  }
  q.locations = published_->locations(); // what the directory would attach
  // The redirect, should the actor have stopped, carries the request's own hop: the directory's
  // span is then a child of the server span, as on the way through the directory.
  auto guard = std::make_shared<redirect_if_dropped>(std::move(reply), q, directory);
  // The user actor may answer after the server span ended (a reply timeout): a hand-off, PRODUCER
  // here and CONSUMER there, as through the directory (SPEC §7).
  child_span span{ctx_->tracing, "core page", q.trace, span_kind::producer};
  if (span)
    q.trace = span.hand_off();
  caf::anon_send(owner, page_atom::value, std::move(q), reply_ptr{std::move(guard)});
}

void core::ask_locations(reply_ptr reply, const hop& trace) {
  child_span span{ctx_->tracing, "core locations", trace, span_kind::producer};
  caf::anon_send(locations_, locations_atom::value, std::move(reply), span ? span.hand_off() : trace);
}

void core::after_write(id_type user, const trace_context* trace) {
  epochs_->bump(user);
  invalidations_->post(user, trace);
}

void core::after_own_write(id_type user, written_snapshot written, const trace_context* trace) {
  invalidations_->post(user, trace, std::move(written));
}

bool core::shutdown(std::chrono::milliseconds drain_timeout) {
  if (stopped_)
    return true;
  stopped_ = true;
  bool drained = invalidations_->drain(drain_timeout);
  invalidations_->stop();
  for (auto& d : directories_)
    caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(locations_, caf::exit_reason::user_shutdown);
  pool_->shutdown();
  return drained;
}

} // namespace booking
