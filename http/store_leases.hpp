// The store calls HTTP threads make themselves (writes, token and session lookups: these threads
// are not CAF scheduler threads, so blocking there stalls no actor). They borrow one of a few pooled
// SQLite connections: a connection per HTTP thread would cost memory per thread ever used.
// Members' writes go to the store writer instead (`writer()`, http/store_writer.hpp): one thread
// and one connection that commit them in groups.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "http/store_writer.hpp"
#include "model/store.hpp"

namespace booking {

class store_leases {
public:
  /// `writer_cache_kib`: the page cache of the writer's connection, which keeps the pages writes
  /// touch between them (the other connections' caches are emptied by every write).
  /// `lease_cache_kib`: the page cache of each pooled connection. SQLite empties a connection's
  /// cache whenever another connection wrote since its last read, so under members' writes a
  /// larger cache keeps no pages, but it still holds its memory: at 512 KiB each, the 16
  /// connections could hold 9 MiB, and they open one by one as lookups overlap, under a soak too
  /// (docs/BENCHMARKS.md, "Pooled connections' caches").
  /// `m` (optional): the store writer's metrics.
  store_leases(store_options opts, std::chrono::milliseconds wait_timeout, metrics* m = nullptr,
               std::size_t connections = 16, int writer_cache_kib = 16384, int lease_cache_kib = 128);

  /// A pooled store connection, returned when the lease ends.
  class lease {
  public:
    lease(store_leases& pool, std::unique_ptr<store> s);
    lease(lease&& other) noexcept = default;
    ~lease();
    store* operator->() { return s_.get(); }
    store& operator*() { return *s_; }

  private:
    store_leases* pool_;
    std::unique_ptr<store> s_;
  };

  /// Borrows a connection (opening one if fewer than the pool size exist); waits at most the
  /// timeout for one to come back, then throws sql::error (busy: answered with 503).
  lease borrow();

  /// Members' writes (book, cancel, leave, waitlist; their idempotency records).
  store_writer& writer() { return *writer_; }

private:
  store_options opts_;
  std::chrono::milliseconds timeout_;
  std::mutex m_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<store>> idle_;
  std::size_t opened_ = 0;
  std::size_t max_connections_;
  std::unique_ptr<store_writer> writer_;
};

} // namespace booking
