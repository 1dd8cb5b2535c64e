// Periodic upkeep on its own thread (never a CAF or HTTP worker): purges idempotency records past
// their retention and hands freed heap pages back to the OS. Stops promptly on shutdown.
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
