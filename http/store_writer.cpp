#include "http/store_writer.hpp"

#include <algorithm>
#include <optional>
#include <vector>

#include <sqlite3.h>

#include "telemetry/log.hpp"
#include "telemetry/trace_scope.hpp"

namespace booking {

struct store_writer::job {
  enum class state { queued, started, ended, withdrawn };
  std::function<void(store&)> apply;
  std::function<void()> committed;
  state st = state::queued;
  std::exception_ptr error;
  std::chrono::steady_clock::time_point queued_at{};
  /// The request that queued the write: the writer's thread runs the write's steps and writes its
  /// log lines in that request's scope, so they carry its `trace_id` (SPEC §7).
  std::optional<trace_context> trace;
};

store_writer::store_writer(store_options opts, int cache_kib, std::chrono::milliseconds queue_timeout,
                           std::size_t max_batch, metrics* m)
  : opts_(std::move(opts)), queue_timeout_(queue_timeout), max_batch_(std::max<std::size_t>(1, max_batch)),
    metrics_(m) {
  auto o = opts_;
  o.cache_kib = cache_kib;
  db_ = std::make_unique<store>(o);
  thread_ = std::thread{[this] { loop(); }};
}

store_writer::~store_writer() {
  {
    std::lock_guard<std::mutex> g{m_};
    stopping_ = true;
  }
  work_.notify_one();
  thread_.join();
}

void store_writer::run(std::function<void(store&)> apply, std::function<void()> committed) {
  inject_store_delay(opts_); // the fault-injection delay, on the calling thread as for leases
  auto j = std::make_shared<job>();
  j->apply = std::move(apply);
  j->committed = std::move(committed);
  j->trace = trace_scope::current();
  std::unique_lock<std::mutex> g{m_};
  if (stopping_)
    throw sql::error("the store writer has stopped", SQLITE_BUSY);
  j->queued_at = std::chrono::steady_clock::now();
  queue_.push_back(j);
  if (metrics_)
    metrics_->writer_queued(1);
  work_.notify_one();
  if (!ended_.wait_for(g, queue_timeout_, [&] { return j->st != job::state::queued; })) {
    // Not started in time: withdrawn, so it never runs (the thread skips it).
    j->st = job::state::withdrawn;
    if (metrics_) {
      metrics_->writer_queued(-1);
      metrics_->writer_refused();
    }
    throw sql::error("no store write slot within the reply timeout", SQLITE_BUSY);
  }
  // Started: its group ends within the store's own bounds (see the header). `apply` and `committed`
  // may refer to this thread's stack, so this thread waits for the end.
  ended_.wait(g, [&] { return j->st == job::state::ended; });
  if (j->error)
    std::rethrow_exception(j->error);
}

std::uint64_t store_writer::groups() const {
  std::lock_guard<std::mutex> g{m_};
  return groups_;
}

std::uint64_t store_writer::writes() const {
  std::lock_guard<std::mutex> g{m_};
  return writes_;
}

void store_writer::loop() {
  std::vector<std::shared_ptr<job>> group;
  std::vector<double> waits;
  for (;;) {
    {
      std::unique_lock<std::mutex> g{m_};
      work_.wait(g, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty())
        return; // stopping, nothing left
      while (!queue_.empty() && group.size() < max_batch_) {
        auto j = std::move(queue_.front());
        queue_.pop_front();
        if (j->st == job::state::withdrawn)
          continue;
        j->st = job::state::started;
        group.push_back(std::move(j));
      }
      if (metrics_ && !group.empty())
        metrics_->writer_queued(-static_cast<double>(group.size()));
    }
    ended_.notify_all(); // started: their waiters stop counting the queue timeout
    if (metrics_ && !group.empty()) {
      auto now = std::chrono::steady_clock::now();
      waits.clear();
      for (auto& j : group)
        waits.push_back(std::chrono::duration<double>(now - j->queued_at).count());
      metrics_->writer_group(group.size(), waits.data());
    }
    if (!group.empty())
      commit_group(group);
    {
      std::lock_guard<std::mutex> g{m_};
      for (auto& j : group)
        j->st = job::state::ended;
      if (!group.empty()) {
        ++groups_;
        writes_ += group.size();
      }
    }
    ended_.notify_all();
    group.clear();
  }
}

void store_writer::commit_group(std::vector<std::shared_ptr<job>>& group) {
  auto* handle = db_->connection().handle();
  try {
    sql::transaction tx{db_->connection(), true}; // BEGIN IMMEDIATE, and this process's writer lock
    for (auto& j : group) {
      if (sqlite3_get_autocommit(handle)) {
        // SQLite rolled the whole transaction back after an earlier write's error (I/O, full disk):
        // the rest of the group fails with it.
        j->error = std::make_exception_ptr(sql::error("the write's transaction was rolled back", SQLITE_ABORT));
        continue;
      }
      try {
        trace_scope in_request{j->trace};
        sql::transaction own{db_->connection(), true}; // a savepoint: a write that throws rolls back alone
        j->apply(*db_);
        own.commit();
      } catch (...) {
        j->error = std::current_exception();
      }
    }
    if (sqlite3_get_autocommit(handle))
      throw sql::error("the group's transaction was rolled back", SQLITE_ABORT);
    tx.commit();
    for (auto& j : group)
      if (!j->error && j->committed) {
        try {
          trace_scope in_request{j->trace};
          j->committed(); // tx still holds the writer lock
        } catch (...) {
          // Committed all the same: the write's answer stands.
        }
      }
  } catch (const std::exception& x) {
    fail_group(group, x.what());
  } catch (...) {
    fail_group(group, "unknown error");
  }
}

void store_writer::fail_group(std::vector<std::shared_ptr<job>>& group, const char* what) {
  // BEGIN or COMMIT failed: nothing of the group was written.
  auto e = std::current_exception();
  for (auto& j : group)
    if (!j->error)
      j->error = e;
  // One line per write of the group, in its request's scope: each request's lines carry its
  // trace_id. A group holds at most `max_batch` writes, and fails only with the store.
  for (auto& j : group) {
    trace_scope in_request{j->trace};
    log_error("store write group failed").kv("writes", group.size()).kv("error", what);
  }
}

} // namespace booking
