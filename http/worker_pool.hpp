// The HTTP threads: a fixed pool that hands each new connection to the thread that went idle last.
//
// cpp-httplib's own pool lets every idle thread wait on one condition variable, so a new
// connection goes to whichever thread the kernel wakes, in practice the one idle the longest: over
// time every one of the pool's threads serves connections, touches its own stack and allocator
// cache, and keeps them resident (docs/BENCHMARKS.md, "HTTP threads, last idle first"). Here the
// idle threads form a stack: the next connection wakes the one on top, whose stack and caches are
// still warm, and the threads below stay untouched until the concurrency needs them.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <httplib.h>

namespace booking {

class worker_pool : public httplib::TaskQueue {
public:
  explicit worker_pool(std::size_t threads);
  ~worker_pool() override;
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  void enqueue(std::function<void()> fn) override;
  /// Runs what is queued, then joins every thread.
  void shutdown() override;
  /// Threads waiting for a connection now.
  std::size_t idle() const;

private:
  struct worker {
    std::condition_variable wake;
    std::function<void()> task; // handed over under the pool's lock
  };
  void run(worker& w);

  mutable std::mutex m_;
  std::vector<worker*> idle_;                 // last idle on top
  std::deque<std::function<void()>> backlog_; // only while every thread is busy
  bool stopping_ = false;
  std::vector<std::unique_ptr<worker>> workers_;
  std::vector<std::thread> threads_;
};

} // namespace booking
