#include "http/bridge.hpp"

#include <thread>

#include <caf/send.hpp>

namespace booking {

bridge::bridge(core& c, store_options opts, std::chrono::milliseconds reply_timeout, std::size_t connections)
  : core_(c), opts_(std::move(opts)), timeout_(reply_timeout), max_connections_(std::max<std::size_t>(1, connections)) {}

body_result bridge::wait(const slot_ptr& slot) {
  auto r = slot->wait_for(timeout_);
  return r ? std::move(*r) : body_result{nullptr, error_code::unavailable};
}

body_result bridge::page(page_query q) {
  q.epoch = core_.epochs().current(q.user_id);
  // The warm path: a body the user's actor published, fresh for this request, is answered here on
  // the HTTP thread — no message, no wake-up (actors/published_pages.hpp says why it is safe).
  auto& pub = core_.published();
  if (auto body = pub.find(q.user_id, q.epoch, q.language, q.range, pub.current_locations(),
                           std::chrono::steady_clock::now(), now_seconds())) {
    core_.metrics().cache(cache_name::user_page, cache_result::hit);
    return body_result{std::move(body), error_code::none};
  }
  auto slot = std::make_shared<reply_slot>();
  caf::anon_send(core_.directory_for(q.user_id), page_atom::value, std::move(q), reply_ptr{slot});
  return wait(slot);
}

body_result bridge::locations(const hop& trace) {
  auto slot = std::make_shared<reply_slot>();
  caf::anon_send(core_.locations(), locations_atom::value, reply_ptr{slot}, trace);
  return wait(slot);
}

body_result bridge::refresh_locations() {
  auto slot = std::make_shared<reply_slot>();
  caf::anon_send(core_.locations(), refresh_atom::value, reply_ptr{slot});
  return wait(slot);
}

bridge::lease bridge::borrow_store() {
  std::unique_lock<std::mutex> g{pool_m_};
  if (idle_.empty() && opened_ < max_connections_) {
    ++opened_;
    g.unlock();
    try {
      return lease{*this, std::make_unique<store>(opts_)};
    } catch (...) {
      std::lock_guard<std::mutex> again{pool_m_};
      --opened_;
      throw;
    }
  }
  if (!pool_cv_.wait_for(g, timeout_, [this] { return !idle_.empty(); }))
    throw sql::error("no store connection free", 5 /* SQLITE_BUSY */);
  auto s = std::move(idle_.back());
  idle_.pop_back();
  g.unlock();
  return lease{*this, std::move(s)};
}

bridge::lease::lease(bridge& b, std::unique_ptr<store> s) : b_(&b), s_(std::move(s)) {
  if (b.opts_.delay_ms > 0) // fault injection: every store call through the bridge is slower
    std::this_thread::sleep_for(std::chrono::milliseconds(b.opts_.delay_ms));
}

bridge::lease::~lease() {
  if (!s_)
    return;
  {
    std::lock_guard<std::mutex> g{b_->pool_m_};
    b_->idle_.push_back(std::move(s_));
  }
  b_->pool_cv_.notify_one();
}

} // namespace booking
