// Members' writes, committed in groups by one thread on one connection.
//
// SQLite lets one connection write at a time. When every HTTP thread wrote itself, the writes queued
// on the writer lock, and on two cores a thread that held it was often preempted by one of the 30-odd
// others: writes took 2 ms at the median and 25 ms at p90 for 0.3 ms of work, and the connections
// they held were missing from the page load (docs/BENCHMARKS.md, "Writes in groups").
//
// Here the HTTP thread queues its write and waits; one thread takes whatever is queued (up to
// `max_batch`), runs each write in a savepoint of one transaction (a write that fails rolls back
// alone), commits once, runs each write's `committed` step while the writer lock is still held, and
// wakes the waiters. A write is answered only after the COMMIT that holds it. The connection is the
// only one members' writes use, so SQLite keeps the pages they touch in its cache between them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "model/store.hpp"
#include "telemetry/metrics.hpp"

namespace booking {

class store_writer {
public:
  /// Opens the connection (page cache `cache_kib`) and starts the thread. `queue_timeout`: how long a
  /// write may wait to start before it is refused (sql::error, busy: a 503).
  /// `m` (optional) gets the queue depth, each group's size, each write's wait in the queue and
  /// the refusals.
  store_writer(store_options opts, int cache_kib, std::chrono::milliseconds queue_timeout,
               std::size_t max_batch = 64, metrics* m = nullptr);
  /// Runs what is queued, then stops the thread.
  ~store_writer();
  store_writer(const store_writer&) = delete;
  store_writer& operator=(const store_writer&) = delete;

  /// Sleeps the fault-injection delay (`store_options::delay_ms`) first, as a lease does. Then runs
  /// `apply` in the next group's transaction, then `committed` (if the group committed and
  /// `apply` did not throw) after the COMMIT, before the writer lock is released: what it stamps is
  /// ordered like the commits. Rethrows what `apply` threw, or the group's BEGIN or COMMIT failure.
  /// Waits at most the queue timeout for the write to start (it then never runs); once started, until
  /// its group ends, which is bounded by the store's busy timeout (BEGIN IMMEDIATE) and the group's
  /// statements, which wait for no other connection once the write lock is held.
  void run(std::function<void(store&)> apply, std::function<void()> committed = {});

  /// Groups committed so far and the writes in them (tests, /metrics-free diagnostics).
  std::uint64_t groups() const;
  std::uint64_t writes() const;

private:
  struct job;
  void loop();
  void commit_group(std::vector<std::shared_ptr<job>>& group);
  /// Inside commit_group's handler of a failed BEGIN or COMMIT: every write not failed already gets
  /// that exception, and its request a log line.
  void fail_group(std::vector<std::shared_ptr<job>>& group, const char* what);

  store_options opts_;
  std::unique_ptr<store> db_;
  std::chrono::milliseconds queue_timeout_;
  std::size_t max_batch_;
  metrics* metrics_;
  mutable std::mutex m_;
  std::condition_variable work_;  // the thread waits for writes
  std::condition_variable ended_; // writers wait for their group
  std::deque<std::shared_ptr<job>> queue_;
  bool stopping_ = false;
  std::uint64_t groups_ = 0, writes_ = 0;
  std::thread thread_;
};

} // namespace booking
