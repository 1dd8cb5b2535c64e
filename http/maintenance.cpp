#include "http/maintenance.hpp"

#include "model/time_zone.hpp"
#include "telemetry/log.hpp"

namespace booking {

maintenance::maintenance(store_options opts, std::chrono::seconds interval, std::chrono::hours retention)
  : opts_(std::move(opts)), interval_(interval), retention_(retention) {
  th_ = std::thread{[this] {
    std::unique_lock<std::mutex> g{m_};
    while (!cv_.wait_for(g, interval_, [this] { return stopping_; })) {
      g.unlock();
      run_once();
      g.lock();
    }
  }};
}

maintenance::~maintenance() {
  {
    std::lock_guard<std::mutex> g{m_};
    stopping_ = true;
  }
  cv_.notify_all();
  th_.join();
}

int maintenance::run_once() {
  int purged = 0;
  try {
    store db{opts_};
    purged = db.purge_idempotency(now_seconds() - retention_);
  } catch (const std::exception& e) {
    log_error("maintenance failed").kv("error", e.what());
  }
  return purged;
}

} // namespace booking
