#include "actors/store_pool.hpp"

#include "telemetry/log.hpp"

namespace booking {

store_pool::store_pool(const store_options& opts, std::size_t threads) : opts_(opts) {
  if (threads == 0) {
    manual_store_ = std::make_unique<store>(opts_);
    return;
  }
  for (std::size_t i = 0; i < threads; ++i)
    threads_.emplace_back([this] { work(); });
}

store_pool::~store_pool() { shutdown(); }

void store_pool::submit(job j) {
  {
    std::lock_guard<std::mutex> g{m_};
    if (!stopping_) {
      jobs_.push_back(std::move(j));
      j = nullptr;
    }
  }
  if (j)
    j(nullptr); // the pool stopped: the job reports an error at once instead of waiting forever
  else
    cv_.notify_one();
}

std::size_t store_pool::run_pending(std::size_t max) {
  std::size_t n = 0;
  while (n < max) {
    job j;
    {
      std::lock_guard<std::mutex> g{m_};
      if (jobs_.empty())
        break;
      j = std::move(jobs_.front());
      jobs_.pop_front();
    }
    run(j, manual_store_.get());
    ++n;
  }
  return n;
}

bool store_pool::stopping() const {
  std::lock_guard<std::mutex> g{m_};
  return stopping_;
}

std::size_t store_pool::queued() const {
  std::lock_guard<std::mutex> g{m_};
  return jobs_.size();
}

void store_pool::shutdown() {
  std::deque<job> abandoned;
  {
    std::lock_guard<std::mutex> g{m_};
    if (stopping_)
      return;
    stopping_ = true;
    abandoned.swap(jobs_);
  }
  cv_.notify_all();
  // Jobs not started yet are not run: at shutdown the HTTP threads have answered every request
  // already, so a queued load has nobody to serve, and with a slow store the queue could take
  // seconds a job. Each reports an error to its actor instead, as a job without a connection does.
  for (auto& j : abandoned)
    j(nullptr);
  if (!abandoned.empty())
    log_info("store jobs not run at shutdown").kv("jobs", abandoned.size());
  for (auto& t : threads_)
    t.join();
  threads_.clear();
}

void store_pool::run(job& j, store* db) {
  inject_store_delay(opts_);
  j(db); // jobs catch their own store errors and report them to their actor
}

void store_pool::work() {
  std::unique_ptr<store> db;
  for (;;) {
    job j;
    {
      std::unique_lock<std::mutex> g{m_};
      cv_.wait(g, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty())
        return; // stopping and drained
      j = std::move(jobs_.front());
      jobs_.pop_front();
    }
    try {
      if (!db)
        db = std::make_unique<store>(opts_);
    } catch (const std::exception& e) {
      log_error("store connection failed").kv("error", e.what());
    }
    run(j, db.get());
  }
}

} // namespace booking
