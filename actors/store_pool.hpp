// Store access off the CAF scheduler: a fixed set of threads, each with its own SQLite connection,
// taking jobs from one queue. Results go back to actors as messages (anon_send from the job).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "model/store.hpp"

namespace booking {

class store_pool {
public:
  /// A job gets the thread's connection, or nullptr when none could be opened: it must then report
  /// an error to whoever waits for it.
  using job = std::function<void(store*)>;

  /// `threads == 0` makes a manual pool: jobs wait until `run_pending` runs them on the caller's
  /// thread (deterministic tests choose exactly when a load happens).
  store_pool(const store_options& opts, std::size_t threads);
  ~store_pool();
  store_pool(const store_pool&) = delete;
  store_pool& operator=(const store_pool&) = delete;

  void submit(job j);
  /// Manual pools only: runs up to `max` queued jobs in order; returns how many ran.
  std::size_t run_pending(std::size_t max = static_cast<std::size_t>(-1));
  std::size_t queued() const;
  /// True once `shutdown` began: a job called with nullptr now was abandoned, not refused a
  /// connection (it reports an error to its actor, but it is not a store error to log or count).
  bool stopping() const;
  /// Stops taking jobs and joins the threads once the jobs running finish. Jobs still queued, and
  /// jobs submitted from then on, are not run against the store: each is called with nullptr (and
  /// so reports an error to its actor) on the calling thread.
  void shutdown();

private:
  void work();
  /// Every job, threaded or manual, goes through here: the fault-injection delay, then the job.
  void run(job& j, store* db);

  store_options opts_;
  mutable std::mutex m_;
  std::condition_variable cv_;
  std::deque<job> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  std::unique_ptr<store> manual_store_;
};

} // namespace booking
