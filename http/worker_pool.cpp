#include "http/worker_pool.hpp"

#include <utility>

namespace booking {

worker_pool::worker_pool(std::size_t threads) {
  workers_.reserve(threads);
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) {
    workers_.push_back(std::make_unique<worker>());
    threads_.emplace_back([this, w = workers_.back().get()] { run(*w); });
  }
}

worker_pool::~worker_pool() {
  shutdown();
}

void worker_pool::enqueue(std::function<void()> fn) {
  std::unique_lock<std::mutex> g{m_};
  if (idle_.empty()) {
    backlog_.push_back(std::move(fn));
    return;
  }
  worker* w = idle_.back();
  idle_.pop_back();
  w->task = std::move(fn);
  g.unlock();
  w->wake.notify_one();
}

std::size_t worker_pool::idle() const {
  std::lock_guard<std::mutex> g{m_};
  return idle_.size();
}

void worker_pool::shutdown() {
  {
    std::lock_guard<std::mutex> g{m_};
    if (stopping_ && threads_.empty())
      return;
    stopping_ = true;
    for (auto* w : idle_)
      w->wake.notify_one();
  }
  for (auto& t : threads_)
    if (t.joinable())
      t.join();
  threads_.clear();
}

void worker_pool::run(worker& w) {
  std::unique_lock<std::mutex> g{m_};
  for (;;) {
    std::function<void()> fn;
    if (!backlog_.empty()) {
      fn = std::move(backlog_.front());
      backlog_.pop_front();
    } else if (stopping_) {
      return;
    } else {
      idle_.push_back(&w);
      w.wake.wait(g, [&] { return static_cast<bool>(w.task) || stopping_; });
      if (!w.task) {
        // Stopping with nothing handed over: leave the idle stack, then drain what is queued.
        for (auto i = idle_.begin(); i != idle_.end(); ++i)
          if (*i == &w) {
            idle_.erase(i);
            break;
          }
        continue;
      }
      fn = std::move(w.task);
      w.task = nullptr;
    }
    g.unlock();
    fn();
    g.lock();
  }
}

} // namespace booking
