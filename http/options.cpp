#include "http/options.hpp"

#include <cstring>
#include <fstream>
#include <sstream>
#include <optional>
#include <vector>

#include <caf/config_option_adder.hpp>

#include "telemetry/log.hpp"

namespace booking {

server_config::server_config() {
  // A shared job queue with condition-variable wake-ups: a message from an HTTP thread reaches an
  // idle worker at once, where work stealing's sleeping pollers add latency (measured in
  // docs/BENCHMARKS.md). `--scheduler.policy=stealing` restores CAF's default.
  set("scheduler.policy", caf::atom("sharing"));
  opt_group{custom_options_, "?booking"}
    .add(db, "db", "path of the SQLite database (created and migrated if needed)")
    .add(port, "port", "TCP port (required); 0 picks a free one")
    .add(bind, "bind", "address to listen on")
    .add(http_threads, "http-threads", "HTTP worker threads (each serves one connection at a time)")
    .add(max_inflight, "max-inflight", "concurrent requests before 503 overloaded")
    .add(cache_ttl_seconds, "cache-ttl-seconds", "how long a cached booking page stays fresh")
    .add(cache_idle_seconds, "cache-idle-seconds", "idle user actors stop after this long")
    .add(cache_max_users, "cache-max-users", "at most this many user actors live at once")
    .add(cancel_window_hours, "cancel-window-hours", "cancels this long before the start refund the credit")
    .add(waitlist_cutoff_hours, "waitlist-cutoff-hours",
         "waitlist joins and promotions stop this long before the start")
    .add(invalidation_workers, "invalidation-workers", "actors in the invalidation pool")
    .add(invalidation_queue, "invalidation-queue", "queued invalidations before the fallback path")
    .add(store_threads, "store-threads", "threads (one SQLite connection each) for store loads")
    .add(timezone, "timezone", "IANA time zone of dates and weeks")
    .add(trace_sample_rate, "trace-sample-rate", "fraction of root traces sampled")
    .add(trace_file, "trace-file", "append sampled spans as OTLP/JSON lines")
    .add(otlp_endpoint, "otlp-endpoint", "OTLP/HTTP collector base URL")
    .add(access_log, "access-log", "one log line per request")
    .add(max_body_bytes, "max-body-bytes", "largest accepted request body")
    .add(keep_alive_seconds, "keep-alive-seconds", "idle time a kept-alive connection may hold a worker")
    .add(io_timeout_seconds, "io-timeout-seconds",
         "timeout of each socket read and write, and the deadline of a whole request head")
    .add(reply_timeout_ms, "reply-timeout-ms", "longest wait for an actor's answer before 503")
    .add(rate_limit_per_second, "rate-limit-per-second", "requests a user may make per second (0: no limit)")
    .add(rate_limit_burst, "rate-limit-burst", "requests a user may make at once")
    .add(store_busy_timeout_ms, "store-busy-timeout-ms", "how long a store call waits for a lock")
    .add(store_mmap_mib, "store-mmap-mib", "MiB of the database file read through a memory map (0: pread)")
    .add(store_delay_ms, "store-delay-ms", "fault injection: delay added to every store call");
}

namespace {

std::string trimmed(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos)
    return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

/// The keys of a config file as `--key=value` flags. Accepted forms, so that whatever a user writes
/// in CAF's style works: keys at the top, under `[booking]` or `[global]`, or in a `booking { ... }` /
/// `global { ... }` group; any other section or group `S` gives `--S.key` (CAF's own options, such as
/// `[scheduler] policy=...`). Values may be quoted ('...' or "..."); `#` and `;` start comments.
std::optional<std::vector<std::string>> config_file_flags(const std::string& path, std::string& why) {
  std::ifstream in{path};
  if (!in) {
    why = "cannot read config file " + path;
    return std::nullopt;
  }
  std::vector<std::string> out;
  std::string line, section;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    auto t = trimmed(line);
    if (t.empty() || t[0] == '#' || t[0] == ';')
      continue;
    if (t.front() == '[' && t.back() == ']') {
      section = trimmed(t.substr(1, t.size() - 2));
      continue;
    }
    if (t == "}") {
      section.clear();
      continue;
    }
    if (t.back() == '{' && t.find('=') == std::string::npos) {
      section = trimmed(t.substr(0, t.size() - 1));
      continue;
    }
    auto eq = t.find('=');
    if (eq == std::string::npos || eq == 0) {
      why = path + ":" + std::to_string(n) + ": expected key=value";
      return std::nullopt;
    }
    auto key = trimmed(t.substr(0, eq));
    auto value = trimmed(t.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    else if (auto c = value.find_first_of("#;"); c != std::string::npos)
      value = trimmed(value.substr(0, c)); // a comment after an unquoted value
    bool ours = section.empty() || section == "booking" || section == "global";
    out.push_back("--" + (ours ? key : section + "." + key) + "=" + value);
  }
  return out;
}

} // namespace

caf::error server_config::parse_args(int argc, char** argv) {
  static const char* const booleans[] = {"access-log"};
  // The config file's keys come first, so that a flag on the command line wins.
  std::vector<std::string> given, from_file;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string path;
    if (a.rfind("--config-file=", 0) == 0)
      path = a.substr(14);
    else if (a == "--config-file" && i + 1 < argc)
      path = argv[++i];
    else {
      given.push_back(std::move(a));
      continue;
    }
    std::string why;
    auto flags = config_file_flags(path, why);
    if (!flags)
      return caf::make_error(caf::pec::illegal_argument, why);
    from_file.insert(from_file.end(), flags->begin(), flags->end());
  }
  std::vector<std::string> args{argc > 0 ? argv[0] : "booking-server"};
  args.insert(args.end(), from_file.begin(), from_file.end());
  args.insert(args.end(), given.begin(), given.end());
  std::vector<std::string> kept;
  for (std::size_t i = 0; i < args.size(); ++i) {
    auto& a = args[i];
    bool keep = true;
    for (const char* b : booleans) {
      auto prefix = std::string("--") + b + "=";
      if (i > 0 && a.rfind(prefix, 0) == 0) {
        auto v = a.substr(prefix.size());
        if (v == "true" || v == "1" || v == "yes" || v == "on")
          a = std::string("--") + b;
        else if (v == "false" || v == "0" || v == "no" || v == "off")
          keep = false; // the default
      }
    }
    if (keep)
      kept.push_back(std::move(a));
  }
  for (std::size_t i = 1; i < kept.size(); ++i)
    for (const char* flag : {"--port", "--booking.port"}) {
      auto n = std::strlen(flag);
      if (kept[i].compare(0, n, flag) != 0 || (kept[i].size() != n && kept[i][n] != '='))
        continue;
      port_given = true;
      // Decimal digits only: CAF's integer reader takes `0124000` as octal and `0x4000` as hex.
      auto value = kept[i].size() > n ? kept[i].substr(n + 1) : std::string{};
      if (kept[i].size() > n && (value.empty() || value.size() > 5 || value.find_first_not_of("0123456789") != std::string::npos))
        return caf::make_error(caf::pec::illegal_argument, "--port must be a decimal number from 0 to 65535");
    }
  std::vector<char*> ptrs;
  for (auto& a : kept)
    ptrs.push_back(a.data());
  // No file but `--config-file`'s, read above: CAF would otherwise read `caf-application.ini` from
  // the working directory into its own settings, which `--dump-config` shows but the server's
  // options never see (a port or database there looked set and was not).
  std::istringstream no_default_file;
  return parse(static_cast<int>(ptrs.size()), ptrs.data(), no_default_file);
}

core_options server_config::core() const {
  core_options o;
  o.store.path = db;
  o.store.delay_ms = static_cast<int>(store_delay_ms);
  o.store.busy_timeout_ms = static_cast<int>(store_busy_timeout_ms);
  o.store.mmap_bytes = static_cast<long long>(std::min<std::size_t>(store_mmap_mib, 1 << 20)) << 20;
  // The upkeep thread checkpoints the log every 250 ms (http/maintenance); a commit checkpoints
  // itself only if that falls 10,000 pages (40 MB) behind.
  o.store.wal_autocheckpoint_pages = 10000;
  o.store_threads = std::max<std::size_t>(1, store_threads);
  o.cache_ttl = std::chrono::seconds{cache_ttl_seconds};
  o.cache_idle = std::chrono::seconds{cache_idle_seconds};
  o.cache_max_users = std::max<std::size_t>(1, cache_max_users);
  o.invalidation_workers = std::max<std::size_t>(1, invalidation_workers);
  o.invalidation_queue = invalidation_queue;
  o.timezone = timezone;
  o.waitlist_cutoff = std::chrono::hours{static_cast<int>(waitlist_cutoff_hours)};
  return o;
}

std::string server_config::summary() const {
  std::ostringstream s;
  s << "db=" << logfmt_value(db) << " bind=" << logfmt_value(bind) << " port=" << port << " http_threads=" << http_threads
    << " max_inflight=" << max_inflight << " cache_ttl_seconds=" << cache_ttl_seconds
    << " cache_idle_seconds=" << cache_idle_seconds << " cache_max_users=" << cache_max_users
    << " cancel_window_hours=" << cancel_window_hours << " waitlist_cutoff_hours=" << waitlist_cutoff_hours
    << " invalidation_workers=" << invalidation_workers
    << " invalidation_queue=" << invalidation_queue << " store_threads=" << store_threads
    << " timezone=" << logfmt_value(timezone) << " trace_sample_rate=" << trace_sample_rate
    << " trace_file=" << logfmt_value(trace_file)
    // The endpoint's URL may hold credentials: only whether spans are exported.
    << " otlp_export=" << (otlp_endpoint.empty() ? "off" : "on") << " access_log=" << (access_log ? "on" : "off")
    << " max_body_bytes=" << max_body_bytes << " keep_alive_seconds=" << keep_alive_seconds
    << " reply_timeout_ms=" << reply_timeout_ms << " rate_limit_per_second=" << rate_limit_per_second
    << " rate_limit_burst=" << rate_limit_burst << " store_busy_timeout_ms=" << store_busy_timeout_ms
    << " store_mmap_mib=" << store_mmap_mib << " store_delay_ms=" << store_delay_ms;
  return s.str();
}

} // namespace booking
