// Counters and histograms that many threads update at once without sharing a cache line.
//
// prometheus-cpp's Counter adds to one shared atomic, and its Histogram takes a mutex and updates a
// shared sum and bucket on every Observe. The HTTP threads update the request counter, the duration
// histogram and the cache counter on every request: those few lines moved between the cores on
// every request, and Observe's mutex held two thirds of the warm page's lock waits (a thread
// preempted inside it stalls the others; docs/BENCHMARKS.md, "The load generator's share").
//
// Here each series keeps one count per stripe, each stripe on its own cache line; a thread takes a
// stripe on its first update (in turn) and keeps it. A scrape sums the stripes. Totals are exact;
// a scrape taken while requests finish may see one stripe's update and not another's, as it would
// see some requests and not others.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <prometheus/metric_family.h>

namespace booking {

constexpr std::size_t stripe_count = 8;

/// The calling thread's stripe, taken in turn on its first call.
std::size_t this_thread_stripe() noexcept;

class striped_counter {
public:
  void add(std::uint64_t n = 1) noexcept { slots_[this_thread_stripe()].n.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept;

private:
  struct alignas(64) slot {
    std::atomic<std::uint64_t> n{0};
  };
  std::array<slot, stripe_count> slots_;
};

class striped_histogram {
public:
  static constexpr std::size_t max_bounds = 30;
  /// `bounds`: ascending upper bounds (at most `max_bounds`); a last bucket, +Inf, is added.
  explicit striped_histogram(std::vector<double> bounds);
  /// Counts `v` in the first bucket whose bound is >= v, as prometheus-cpp does.
  void observe(double v) noexcept;
  /// Cumulative buckets, count and sum, as prometheus-cpp's Histogram reports them.
  prometheus::ClientMetric::Histogram snapshot() const;

private:
  struct alignas(64) slot {
    std::array<std::atomic<std::uint64_t>, max_bounds + 1> buckets{};
    std::atomic<double> sum{0.0}; // only this stripe's threads add to it
  };
  std::vector<double> bounds_;
  std::array<slot, stripe_count> slots_;
};

/// A family of striped series, one per combination of label values, created on first use and kept
/// for the process's life (callers pass label values from fixed sets, so a client cannot mint
/// series). `add` takes a lock: callers keep the reference it returns.
template <class Series>
class striped_family {
public:
  striped_family(std::string name, std::string help, std::vector<std::string> label_names,
                 std::vector<double> bounds = {})
    : name_(std::move(name)), help_(std::move(help)), labels_(std::move(label_names)), bounds_(std::move(bounds)) {}

  /// The series of these label values (in the order of the label names), made if new.
  Series& add(const std::vector<std::string>& values);
  /// The family as prometheus-cpp's serializer takes it: series in the order they were made, labels
  /// sorted by name (as prometheus-cpp's own families give them).
  prometheus::MetricFamily collect() const;

private:
  struct series {
    template <class... Args>
    explicit series(std::vector<std::string> v, Args&&... args) : values(std::move(v)), data(std::forward<Args>(args)...) {}
    std::vector<std::string> values;
    Series data;
  };
  std::string name_, help_;
  std::vector<std::string> labels_;
  std::vector<double> bounds_; // histograms only
  mutable std::mutex m_;
  std::deque<series> series_; // stable addresses
  std::map<std::vector<std::string>, Series*> index_;
};

using striped_counter_family = striped_family<striped_counter>;
using striped_histogram_family = striped_family<striped_histogram>;

} // namespace booking
