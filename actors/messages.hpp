// Atoms and message types of the actor core.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>

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

/// What an HTTP thread gets back: a body to send, or an error code.
struct body_result {
  body_ptr body;
  error_code error = error_code::none;
};

/// A one-shot rendezvous between an actor (which delivers) and an HTTP thread (which waits, bounded).
/// No actor is spawned and no timer is set per request: the waiting thread owns the timeout.
class reply_slot {
public:
  void deliver(body_result r) {
    {
      std::lock_guard<std::mutex> g{m_};
      if (done_)
        return;
      value_ = std::move(r);
      done_ = true;
    }
    cv_.notify_one();
  }

  template <class Duration>
  std::optional<body_result> wait_for(Duration d) {
    std::unique_lock<std::mutex> g{m_};
    if (!cv_.wait_for(g, d, [this] { return done_; }))
      return std::nullopt;
    return value_;
  }

private:
  std::mutex m_;
  std::condition_variable cv_;
  bool done_ = false;
  body_result value_;
};

using slot_ptr = std::shared_ptr<reply_slot>;

/// The outcome of one store load of a user.
struct load_result {
  std::shared_ptr<const user_snapshot> snapshot; // null with error set
  error_code error = error_code::none;
  /// When the store thread took the job and when it finished (wall clock, for the load's span).
  std::int64_t started_ns = 0;
  std::int64_t finished_ns = 0;
};

/// Errors of the core travel in CAF as category "booking" with our error_code as the code.
inline caf::error make_error(error_code e) { return caf::error(static_cast<std::uint8_t>(e), caf::atom("booking")); }

inline error_code to_error_code(const caf::error& err) {
  if (!err)
    return error_code::none;
  if (err.category() == caf::atom("booking"))
    return static_cast<error_code>(err.code());
  return error_code::unavailable;
}

} // namespace booking

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(booking::trace_context)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(booking::hop)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(booking::page_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(booking::body_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(booking::slot_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(booking::load_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(booking::location_list)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(booking::body_ptr)
