// The one-line instrument: a span that records itself when it goes out of scope (or at `end()`),
// and costs one null check when its trace is not sampled or tracing is off.
//
//   child_span s{tracer, "user_cache page", q.trace, span_kind::consumer};  // an actor hop
//   s.set("booking.cache.result", "hit");
//
// Move-only: a span can wait in a parked request and end when the request is answered.
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "telemetry/span.hpp"
#include "telemetry/trace_scope.hpp"
#include "telemetry/tracer.hpp"

namespace booking {

class child_span {
public:
  child_span() = default;
  /// A child of `parent.span` in `parent`'s trace, starting now.
  child_span(tracer* t, std::string_view name, const trace_context& parent, span_kind kind = span_kind::internal);
  /// The span of an actor hop: starts when the message was sent (so the mailbox wait, also an
  /// attribute, is inside it). `name` is "actor message".
  child_span(tracer* t, std::string_view name, const hop& parent, span_kind kind = span_kind::internal);
  /// A span with a given context (its own id in `self`), e.g. the server span of a request.
  static child_span with_context(tracer* t, std::string_view name, const trace_context& self,
                                 const std::optional<trace_context>& remote_parent, span_kind kind,
                                 std::int64_t start_ns);
  /// A root span in a new sampled trace of its own, starting at `start_ns`.
  static child_span new_root(tracer* t, std::string_view name, span_kind kind, std::int64_t start_ns);

  child_span(child_span&& o) noexcept = default;
  child_span& operator=(child_span&& o) noexcept {
    if (this != &o) {
      end();
      t_ = o.t_;
      rec_ = std::move(o.rec_);
    }
    return *this;
  }
  ~child_span() { end(); }

  bool recording() const { return rec_ != nullptr; }
  explicit operator bool() const { return recording(); }
  /// What a child of this span needs (only meaningful while recording).
  trace_context context() const;
  /// The context to send with an asynchronous message, stamped with the send time.
  hop hand_off() const { return hop{context(), recording() ? unix_nanos() : 0}; }
  const span_id& id() const;
  const trace_id& trace() const;
  std::int64_t start_ns() const { return rec_ ? rec_->start_ns : 0; }

  child_span& set(std::string_view key, std::string_view v);
  child_span& set(std::string_view key, const char* v) { return set(key, std::string_view{v}); }
  child_span& set(std::string_view key, const std::string& v) { return set(key, std::string_view{v}); }
  child_span& set(std::string_view key, bool v);
  child_span& set(std::string_view key, double v);
  template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  child_span& set(std::string_view key, T v) {
    return set_int(key, static_cast<std::int64_t>(v));
  }
  child_span& link(const trace_id& t, const span_id& s);
  /// Status error with `error.type`.
  child_span& fail(std::string_view error_type);
  /// Starts the span at another instant (not before its parent's start).
  void start_at(std::int64_t ns) {
    if (rec_)
      rec_->start_ns = ns;
  }
  /// Records the span (now, or at `end_ns`); later calls do nothing.
  void end(std::int64_t end_ns = 0);

  /// Runs `f`; an exception leaving it marks the span failed with the exception's type.
  template <class F>
  auto run(F&& f) -> decltype(f()) {
    try {
      return f();
    } catch (const std::exception& e) {
      failed_by(e);
      throw;
    }
  }

private:
  child_span& set_int(std::string_view key, std::int64_t v);
  void failed_by(const std::exception& e);

  tracer* t_ = nullptr;
  std::unique_ptr<span_record> rec_; // null: not recording
};

/// A store call as a CLIENT span (`db.system.name` = sqlite, `db.operation.name`), child of
/// `parent` — by default the current request's context on this thread.
child_span store_span(tracer* t, const char* operation,
                      const std::optional<trace_context>& parent = trace_scope::current());

/// A store call that no request waits for (a background refresh): a root of its own trace,
/// sampled by ratio.
child_span background_store_span(tracer* t, const char* operation);

} // namespace booking
