#include "telemetry/striped.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <type_traits>

namespace booking {

std::size_t this_thread_stripe() noexcept {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t mine = next.fetch_add(1, std::memory_order_relaxed) % stripe_count;
  return mine;
}

std::uint64_t striped_counter::value() const noexcept {
  std::uint64_t total = 0;
  for (auto& s : slots_)
    total += s.n.load(std::memory_order_relaxed);
  return total;
}

striped_histogram::striped_histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  if (bounds_.size() > max_bounds || !std::is_sorted(bounds_.begin(), bounds_.end()))
    throw std::invalid_argument("striped_histogram: at most 30 ascending bounds");
}

void striped_histogram::observe(double v) noexcept {
  auto bucket = static_cast<std::size_t>(
    std::find_if(bounds_.begin(), bounds_.end(), [v](double b) { return b >= v; }) - bounds_.begin());
  auto& s = slots_[this_thread_stripe()];
  s.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  // No fetch_add for double before C++20; the line is this stripe's, so the loop rarely repeats.
  auto sum = s.sum.load(std::memory_order_relaxed);
  while (!s.sum.compare_exchange_weak(sum, sum + v, std::memory_order_relaxed))
    ;
}

prometheus::ClientMetric::Histogram striped_histogram::snapshot() const {
  prometheus::ClientMetric::Histogram h;
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    for (auto& s : slots_)
      cumulative += s.buckets[i].load(std::memory_order_relaxed);
    h.bucket.push_back({cumulative, i < bounds_.size() ? bounds_[i] : std::numeric_limits<double>::infinity()});
  }
  h.sample_count = cumulative;
  for (auto& s : slots_)
    h.sample_sum += s.sum.load(std::memory_order_relaxed);
  return h;
}

template <class Series>
Series& striped_family<Series>::add(const std::vector<std::string>& values) {
  if (values.size() != labels_.size())
    throw std::invalid_argument("striped_family " + name_ + ": wrong number of label values");
  std::lock_guard<std::mutex> g{m_};
  if (auto i = index_.find(values); i != index_.end())
    return *i->second;
  if constexpr (std::is_same_v<Series, striped_histogram>)
    series_.emplace_back(values, bounds_);
  else
    series_.emplace_back(values);
  auto* made = &series_.back().data;
  index_.emplace(values, made);
  return *made;
}

template <class Series>
prometheus::MetricFamily striped_family<Series>::collect() const {
  prometheus::MetricFamily f;
  f.name = name_;
  f.help = help_;
  f.type = std::is_same_v<Series, striped_histogram> ? prometheus::MetricType::Histogram
                                                     : prometheus::MetricType::Counter;
  std::lock_guard<std::mutex> g{m_};
  f.metric.reserve(series_.size());
  for (auto& s : series_) {
    prometheus::ClientMetric m;
    for (std::size_t i = 0; i < labels_.size(); ++i)
      m.label.push_back({labels_[i], s.values[i]});
    std::sort(m.label.begin(), m.label.end());
    if constexpr (std::is_same_v<Series, striped_histogram>)
      m.histogram = s.data.snapshot();
    else
      m.counter.value = static_cast<double>(s.data.value());
    f.metric.push_back(std::move(m));
  }
  return f;
}

template class striped_family<striped_counter>;
template class striped_family<striped_histogram>;

} // namespace booking
