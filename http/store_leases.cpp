#include "http/store_leases.hpp"

#include <algorithm>

namespace booking {

store_leases::store_leases(store_options opts, std::chrono::milliseconds wait_timeout, metrics* m,
                           std::size_t connections, int writer_cache_kib, int lease_cache_kib)
  : opts_(std::move(opts)), timeout_(wait_timeout), max_connections_(std::max<std::size_t>(1, connections)),
    writer_(std::make_unique<store_writer>(opts_, writer_cache_kib, wait_timeout, 64, m)) {
  opts_.cache_kib = lease_cache_kib; // after the writer took its own copy of the options
}

store_leases::lease store_leases::borrow() {
  std::unique_lock<std::mutex> g{m_};
  if (idle_.empty() && opened_ < max_connections_) {
    ++opened_;
    g.unlock();
    try {
      return lease{*this, std::make_unique<store>(opts_)};
    } catch (...) {
      std::lock_guard<std::mutex> again{m_};
      --opened_;
      throw;
    }
  }
  if (!cv_.wait_for(g, timeout_, [this] { return !idle_.empty(); }))
    throw sql::error("no store connection free", 5 /* SQLITE_BUSY */);
  auto s = std::move(idle_.back());
  idle_.pop_back();
  g.unlock();
  return lease{*this, std::move(s)};
}

store_leases::lease::lease(store_leases& pool, std::unique_ptr<store> s) : pool_(&pool), s_(std::move(s)) {
  inject_store_delay(pool.opts_);
}

store_leases::lease::~lease() {
  if (!s_)
    return;
  {
    std::lock_guard<std::mutex> g{pool_->m_};
    pool_->idle_.push_back(std::move(s_));
  }
  pool_->cv_.notify_one();
}

} // namespace booking
