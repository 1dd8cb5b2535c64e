// The standard `process_*` families (as the Prometheus client libraries name them), read from
// /proc/self at each scrape: Debian's prometheus-cpp has no process collector.
#pragma once

#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace booking {

class process_collector : public prometheus::Collectable {
public:
  process_collector();
  std::vector<prometheus::MetricFamily> Collect() const override;

private:
  double start_time_seconds_ = 0; // read once: it does not change
};

} // namespace booking
