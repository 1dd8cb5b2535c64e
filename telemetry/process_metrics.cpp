#include "telemetry/process_metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace booking {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

/// The fields of /proc/self/stat after the command name (field 3 onwards), or empty.
std::vector<std::string> self_stat() {
  std::ifstream in{"/proc/self/stat"};
  std::string all{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  auto close = all.rfind(')'); // the command name may hold spaces and parentheses
  if (close == std::string::npos)
    return {};
  std::istringstream rest{all.substr(close + 1)};
  return {std::istream_iterator<std::string>(rest), std::istream_iterator<std::string>()};
}

double field(const std::vector<std::string>& f, std::size_t number) {
  // `number` as proc(5) counts: field 3 is f[0].
  return number - 3 < f.size() ? std::stod(f[number - 3]) : 0;
}

double boot_time_seconds() {
  std::ifstream in{"/proc/stat"};
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime") {
      in >> value;
      return value;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

double open_fds() {
  double n = 0;
  if (auto* d = ::opendir("/proc/self/fd")) {
    while (auto* e = ::readdir(d))
      if (e->d_name[0] != '.')
        ++n;
    ::closedir(d);
    n -= 1; // the directory stream's own descriptor
  }
  return n;
}

MetricFamily family(const char* name, const char* help, MetricType type, double value) {
  ClientMetric m;
  if (type == MetricType::Counter)
    m.counter.value = value;
  else
    m.gauge.value = value;
  return MetricFamily{name, help, type, {m}};
}

} // namespace

process_collector::process_collector() {
  auto f = self_stat();
  auto ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  if (!f.empty() && ticks > 0)
    start_time_seconds_ = boot_time_seconds() + field(f, 22) / ticks;
}

std::vector<MetricFamily> process_collector::Collect() const {
  auto f = self_stat();
  auto ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  auto page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  rlimit lim{};
  double max_fds = ::getrlimit(RLIMIT_NOFILE, &lim) == 0 ? static_cast<double>(lim.rlim_cur) : 0;
  std::vector<MetricFamily> out;
  out.push_back(family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                       MetricType::Counter, f.empty() ? 0 : (field(f, 14) + field(f, 15)) / ticks));
  out.push_back(family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge, open_fds()));
  out.push_back(family("process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge, max_fds));
  out.push_back(family("process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge,
                       f.empty() ? 0 : field(f, 23)));
  out.push_back(family("process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge,
                       f.empty() ? 0 : field(f, 24) * page));
  out.push_back(family("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                       MetricType::Gauge, start_time_seconds_));
  return out;
}

} // namespace booking
