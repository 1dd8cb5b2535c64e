#include "http/maintenance.hpp"

#include <algorithm>

#include "model/time_zone.hpp"
#include "telemetry/log.hpp"

namespace booking {

maintenance::maintenance(store_options opts, std::chrono::seconds interval, std::chrono::hours retention,
                         std::chrono::milliseconds checkpoint_every)
  : opts_(std::move(opts)), interval_(interval), retention_(retention), checkpoint_every_(checkpoint_every) {
  th_ = std::thread{[this] {
    auto next_purge = std::chrono::steady_clock::now() + interval_;
    std::unique_lock<std::mutex> g{m_};
    while (!cv_.wait_for(g, std::min<std::chrono::steady_clock::duration>(checkpoint_every_, interval_),
                         [this] { return stopping_; })) {
      g.unlock();
      checkpoint();
      if (std::chrono::steady_clock::now() >= next_purge) {
        run_once();
        next_purge = std::chrono::steady_clock::now() + interval_;
      }
      g.lock();
    }
    g.unlock();
    checkpoint(); // what the last writes left in the log
  }};
}

bool maintenance::checkpoint() {
  std::lock_guard<std::mutex> g{log_m_};
  try {
    if (!log_)
      log_ = std::make_unique<sql::connection>(opts_.path, opts_.busy_timeout_ms, 0, opts_.wal_autocheckpoint_pages);
    // PASSIVE copies what no reader still needs and waits for nobody; the next writer restarts the
    // log once all of it is copied. The row: busy, frames in the log, frames copied.
    sql::statement cp{*log_, "PRAGMA wal_checkpoint(PASSIVE)"};
    if (!cp.step())
      return false;
    log_frames_.store(cp.int64(1));
    copied_frames_.store(cp.int64(2));
    return true;
  } catch (const sql::error& e) {
    if (e.busy()) // another process checkpoints or holds the file: the next round tries again
      return false;
    log_.reset(); // reopened next time
    log_error("checkpoint failed").kv("error", e.what());
    return false;
  } catch (const std::exception& e) {
    log_.reset();
    log_error("checkpoint failed").kv("error", e.what());
    return false;
  }
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
