#include "http/bridge.hpp"

#include <atomic>
#include <thread>

#include <caf/send.hpp>

namespace booking {

namespace {
std::atomic<std::uint64_t> next_bridge_id{1};
} // namespace

bridge::bridge(core& c, store_options opts, std::chrono::milliseconds reply_timeout)
  : core_(c), opts_(std::move(opts)), timeout_(reply_timeout), id_(next_bridge_id++) {}

body_result bridge::wait(const slot_ptr& slot) {
  auto r = slot->wait_for(timeout_);
  return r ? std::move(*r) : body_result{nullptr, error_code::unavailable};
}

body_result bridge::page(page_query q) {
  q.epoch = core_.epochs().current(q.user_id);
  auto slot = std::make_shared<reply_slot>();
  caf::anon_send(core_.directory_for(q.user_id), page_atom::value, std::move(q), slot);
  return wait(slot);
}

body_result bridge::locations(const hop& trace) {
  auto slot = std::make_shared<reply_slot>();
  caf::anon_send(core_.locations(), locations_atom::value, slot, trace);
  return wait(slot);
}

store& bridge::local_store() {
  // One connection per HTTP thread; a thread serves one server, but tests start several in turn.
  thread_local std::unique_ptr<store> mine;
  thread_local std::uint64_t owner = 0;
  if (!mine || owner != id_) {
    mine = std::make_unique<store>(opts_);
    owner = id_;
  }
  if (opts_.delay_ms > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(opts_.delay_ms));
  return *mine;
}

} // namespace booking
