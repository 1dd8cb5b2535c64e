// Periodic upkeep on its own thread (never a CAF or HTTP worker): checkpoints the WAL into the
// database file (PASSIVE: it never blocks a reader or a writer) and purges idempotency records past
// their retention. Stops promptly on shutdown. (It does not call malloc_trim: trimming ~150 MB of
// heap held arena locks long enough to put 400 ms stalls into the open-loop p99.)
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "model/sqlite.hpp"
#include "model/store.hpp"

namespace booking {

class maintenance {
public:
  /// Idempotency records are kept for `retention` (SPEC: at least 24 hours), purged every
  /// `interval`; the log is checkpointed every `checkpoint_every`.
  maintenance(store_options opts, std::chrono::seconds interval, std::chrono::hours retention,
              std::chrono::milliseconds checkpoint_every = std::chrono::milliseconds{250});
  ~maintenance();
  /// One purge now (also what the thread does every interval); returns purged records.
  int run_once();
  /// One PASSIVE checkpoint now (what the thread does every `checkpoint_every`); false on failure.
  bool checkpoint();
  /// What the last checkpoint saw: frames in the log, and how many of them are in the database file.
  long long log_frames() const { return log_frames_.load(); }
  long long copied_frames() const { return copied_frames_.load(); }

private:
  store_options opts_;
  std::chrono::seconds interval_;
  std::chrono::hours retention_;
  std::chrono::milliseconds checkpoint_every_;
  std::unique_ptr<sql::connection> log_; // the checkpoints' own connection (this thread's only)
  std::mutex log_m_;
  std::atomic<long long> log_frames_{0}, copied_frames_{0};
  std::mutex m_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread th_;
};

} // namespace booking
