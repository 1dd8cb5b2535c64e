// Atoms and message types of the actor core.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/send.hpp>

#include "telemetry/span.hpp"
#include "model/types.hpp"

namespace booking {

using page_atom = caf::atom_constant<caf::atom("page")>;
using loaded_atom = caf::atom_constant<caf::atom("loaded")>;
using invalidate_atom = caf::atom_constant<caf::atom("invalid")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;
using locations_atom = caf::atom_constant<caf::atom("locations")>;
using refresh_atom = caf::atom_constant<caf::atom("refresh")>;
using count_atom = caf::atom_constant<caf::atom("count")>;
using result_atom = caf::atom_constant<caf::atom("result")>;

using location_list = std::shared_ptr<const std::vector<location>>;
using body_ptr = std::shared_ptr<const std::string>;

/// A booking page request as it travels from the HTTP front-end to a user actor.
struct page_query {
  id_type user_id = 0;
  lang language = lang::en;
  date_range range{};
  /// The user's write epoch read before the request was sent: a cached page older than this is stale.
  std::uint64_t epoch = 0;
  /// Filled in by the directory: the location list to render with.
  location_list locations;
  /// The trace this request belongs to (span: the parent of the next hop) and when it was sent.
  hop trace;
};

/// What a requester gets back: a body to send, or an error code.
struct body_result {
  body_ptr body;
  error_code error = error_code::none;
};

/// Where a page or location request is answered, whoever asked: an HTTP thread (`reply_slot`) or an
/// actor (`actor_reply`). One reply type, so every handler exists once. Exactly once: the first
/// delivery wins, later ones do nothing. No actor is spawned and no timer is set per request: the
/// requester owns the timeout.
class page_reply {
public:
  virtual ~page_reply() = default;

  void deliver(body_result r) {
    if (!delivered_.exchange(true))
      hand_over(std::move(r));
  }

protected:
  /// Called once, with the first result.
  virtual void hand_over(body_result r) = 0;
  bool delivered() const { return delivered_.load(); }

private:
  std::atomic<bool> delivered_{false};
};

using reply_ptr = std::shared_ptr<page_reply>;

/// A one-shot rendezvous for a thread outside the actor system: the actor delivers, the thread
/// waits, bounded.
class reply_slot final : public page_reply {
public:
  template <class Duration>
  std::optional<body_result> wait_for(Duration d) {
    std::unique_lock<std::mutex> g{m_};
    if (!cv_.wait_for(g, d, [this] { return done_; }))
      return std::nullopt;
    return value_;
  }

private:
  void hand_over(body_result r) override {
    {
      std::lock_guard<std::mutex> g{m_};
      value_ = std::move(r);
      done_ = true;
    }
    cv_.notify_one();
  }

  std::mutex m_;
  std::condition_variable cv_;
  bool done_ = false;
  body_result value_;
};

using slot_ptr = std::shared_ptr<reply_slot>;

/// For an actor requester (tests, tools): the result arrives as `(result_atom, id, body_result)` in
/// its mailbox; `id` is the requester's own, to match answers to requests.
class actor_reply final : public page_reply {
public:
  actor_reply(caf::actor requester, std::uint64_t id) : requester_(std::move(requester)), id_(id) {}

private:
  void hand_over(body_result r) override; // below the message type declarations

  caf::actor requester_;
  std::uint64_t id_;
};

/// The outcome of one store load of a user.
struct load_result {
  std::shared_ptr<const user_snapshot> snapshot; // null with error set
  error_code error = error_code::none;
  /// When the store thread took the job and when it finished (wall clock, for the load's span).
  std::int64_t started_ns = 0;
  std::int64_t finished_ns = 0;
};

/// What a member's own write hands their cache with its invalidation: the member's snapshot read in
/// the write's transaction, and the write epoch bumped before that transaction released the writer
/// lock. Empty (no snapshot): a plain invalidation.
struct written_snapshot {
  std::shared_ptr<const user_snapshot> snapshot;
  std::uint64_t epoch = 0;
};

} // namespace booking

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(booking::trace_context)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(booking::written_snapshot)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(booking::hop)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(booking::page_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(booking::body_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(booking::reply_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(booking::load_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(booking::location_list)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(booking::body_ptr)

inline void booking::actor_reply::hand_over(body_result r) {
  caf::anon_send(requester_, result_atom::value, id_, std::move(r));
}
