// The trace context of the request a thread is working on, for whoever on that thread has no
// other way to know it: log lines (their `trace_id`) and store calls made behind an interface
// (the token lookup). Set for the duration of a request or a store job; nests.
#pragma once

#include <optional>

#include "telemetry/trace_context.hpp"

namespace booking {

class trace_scope {
public:
  explicit trace_scope(const trace_context& c) : previous_(current_) { current_ = c; }
  /// The scope of a request captured elsewhere with `current()` (none: no request's lines).
  explicit trace_scope(const std::optional<trace_context>& c) : previous_(current_) { current_ = c; }
  ~trace_scope() { current_ = previous_; }
  trace_scope(const trace_scope&) = delete;
  trace_scope& operator=(const trace_scope&) = delete;

  /// The innermost scope's context on this thread, if any.
  static const std::optional<trace_context>& current() { return current_; }

private:
  std::optional<trace_context> previous_;
  static inline thread_local std::optional<trace_context> current_;
};

} // namespace booking
