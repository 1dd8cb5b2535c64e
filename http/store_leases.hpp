// The store calls HTTP threads make themselves (writes, token and session lookups: these threads
// are not CAF scheduler threads, so blocking there stalls no actor). They borrow one of a few pooled
// SQLite connections: a connection per HTTP thread would cost memory per thread ever used.
//
// Members' writes borrow one connection of their own instead (`borrow_writer`). SQLite empties a
// connection's page cache when it begins a transaction after another connection wrote; writes take
// turns anyway (one writer at a time per file), so when they all go through one connection it keeps
// the pages writes touch (the bookings, users and ledger b-trees) in its cache between writes, and
// reads them without a pread() each (docs/BENCHMARKS.md).
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "model/store.hpp"

namespace booking {

class store_leases {
public:
  store_leases(store_options opts, std::chrono::milliseconds wait_timeout, std::size_t connections = 16,
               int writer_cache_kib = 16384);

  /// A pooled store connection, returned when the lease ends.
  class lease {
  public:
    lease(store_leases& pool, std::unique_ptr<store> s);
    lease(store_leases& pool, std::unique_lock<std::timed_mutex> writing);
    lease(lease&& other) noexcept = default;
    ~lease();
    store* operator->() { return get(); }
    store& operator*() { return *get(); }

  private:
    store* get() { return s_ ? s_.get() : pool_->writer_.get(); }
    store_leases* pool_;
    std::unique_ptr<store> s_;                 // pooled
    std::unique_lock<std::timed_mutex> writing_; // or the writers' connection, held
  };

  /// Borrows a connection (opening one if fewer than the pool size exist); waits at most the
  /// timeout for one to come back, then throws sql::error (busy: answered with 503).
  lease borrow();

  /// Borrows the writers' connection (opened on first use with a page cache of `writer_cache_kib`);
  /// waits at most the timeout for the write before it, then throws sql::error (busy: 503).
  lease borrow_writer();

private:
  store_options opts_;
  int writer_cache_kib_;
  std::chrono::milliseconds timeout_;
  std::mutex m_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<store>> idle_;
  std::size_t opened_ = 0;
  std::size_t max_connections_;
  std::timed_mutex writing_;
  std::unique_ptr<store> writer_; // guarded by writing_
};

} // namespace booking
