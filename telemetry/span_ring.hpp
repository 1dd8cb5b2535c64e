// The last spans recorded, for GET /debug/traces: encoded one after another into one buffer of fixed
// size, so the ring's memory is bounded in bytes, allocated once, and stays the same size whatever
// mix of spans goes through it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "telemetry/span.hpp"

namespace booking {

class span_ring {
public:
  /// At most `max_spans` spans and `max_bytes` bytes of encoded spans (whichever bound is reached
  /// first drops the oldest). Neither may be 0.
  span_ring(std::size_t max_spans, std::size_t max_bytes);

  /// Keeps a copy of `s`, dropping the oldest spans to make room. A span whose encoding is larger
  /// than the whole buffer is not kept (returns false); the spans already kept stay.
  bool push(const span_record& s);

  /// Every span kept, oldest first.
  std::vector<span_record> spans() const;

  /// The spans of the `limit` newest traces (by the latest end among a trace's spans), newest trace
  /// first, each trace's spans in the order they were kept and at most `per_trace` of them. Only
  /// those spans are copied out and decoded: an answer costs what it holds, not the whole ring.
  std::vector<std::vector<span_record>> newest_traces(std::size_t limit, std::size_t per_trace) const;

  std::size_t max_bytes() const { return cap_; }

private:
  /// Calls `f(pos, n)` for every span still intact, oldest first; the caller holds `m_`.
  template <class F>
  void each_intact(F&& f) const;

  mutable std::mutex m_;
  std::size_t max_spans_;
  std::size_t cap_;
  // Allocated once and written in place: pages are touched as the ring first fills, then reused.
  std::unique_ptr<char[]> bytes_;
  // One slot per span kept: its absolute position (bytes written before it, counting the tail left
  // empty when a span did not fit before the end) and its length. A span is intact while fewer
  // than `cap_` bytes have been written after its start.
  std::vector<std::pair<std::uint64_t, std::uint32_t>> slots_;
  std::size_t next_ = 0; // the slot written next; the oldest once every slot is used
  std::uint64_t head_ = 0; // absolute position after the newest span
};

} // namespace booking
