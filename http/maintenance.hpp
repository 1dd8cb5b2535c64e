// Periodic upkeep on its own thread (never a CAF or HTTP worker): purges idempotency records past
// their retention. Stops promptly on shutdown. (It does not call malloc_trim: trimming ~150 MB of
// heap held arena locks long enough to put 400 ms stalls into the open-loop p99.)
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "model/store.hpp"

namespace booking {

class maintenance {
public:
  /// Idempotency records are kept for `retention` (SPEC: at least 24 hours).
  maintenance(store_options opts, std::chrono::seconds interval, std::chrono::hours retention);
  ~maintenance();
  /// One round now (also what the thread does every interval); returns purged records.
  int run_once();

private:
  store_options opts_;
  std::chrono::seconds interval_;
  std::chrono::hours retention_;
  std::mutex m_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread th_;
};

} // namespace booking
