// The striped request metrics (telemetry/striped.hpp): exact totals under concurrent updates, the
// same buckets as prometheus-cpp's Histogram, and the exposition the facade serializes.
#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

#include <prometheus/histogram.h>

#include "telemetry/metrics.hpp"
#include "telemetry/striped.hpp"

using namespace booking;

TEST_CASE("striped counter: every add of many threads is counted") {
  striped_counter c;
  constexpr int threads = 12, adds = 50000; // more threads than stripes: stripes are shared
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < adds; ++i)
        c.add();
    });
  for (auto& t : ts)
    t.join();
  CHECK(c.value() == static_cast<std::uint64_t>(threads) * adds);
}

TEST_CASE("striped histogram: the buckets, count and sum of prometheus-cpp's Histogram") {
  auto bounds = metrics::duration_buckets();
  striped_histogram mine{bounds};
  prometheus::Histogram theirs{bounds};
  // On a boundary (le: counted in that bucket), between, below the first and above the last.
  const std::vector<double> values{0.000025, 0.00003, 0.001, 0.0010001, 0.0, 4.9, 5.0, 7.5, 0.002, 0.002};
  std::vector<std::thread> ts;
  for (std::size_t t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      for (std::size_t i = t; i < values.size(); i += 4)
        mine.observe(values[i]);
    });
  for (auto& t : ts)
    t.join();
  for (auto v : values)
    theirs.Observe(v);
  auto a = mine.snapshot();
  auto b = theirs.Collect().histogram;
  CHECK(a.sample_count == b.sample_count);
  CHECK(a.sample_sum == doctest::Approx(b.sample_sum));
  REQUIRE(a.bucket.size() == b.bucket.size());
  for (std::size_t i = 0; i < a.bucket.size(); ++i) {
    INFO("bucket " << i);
    CHECK(a.bucket[i].cumulative_count == b.bucket[i].cumulative_count);
    CHECK(a.bucket[i].upper_bound == b.bucket[i].upper_bound);
  }
  CHECK_THROWS(striped_histogram{{2.0, 1.0}}); // bounds must ascend
}

TEST_CASE("striped family: one series per label values, labels sorted by name, in order of creation") {
  striped_counter_family f{"x_total", "help", {"zeta", "alpha"}};
  auto& one = f.add({"z1", "a1"});
  auto& again = f.add({"z1", "a1"});
  CHECK(&one == &again);
  f.add({"z2", "a2"}).add(3);
  one.add();
  CHECK_THROWS(f.add({"only one"}));
  auto fam = f.collect();
  CHECK(fam.name == "x_total");
  CHECK(fam.type == prometheus::MetricType::Counter);
  REQUIRE(fam.metric.size() == 2);
  CHECK(fam.metric[0].label[0].name == "alpha");
  CHECK(fam.metric[0].label[0].value == "a1");
  CHECK(fam.metric[0].label[1].name == "zeta");
  CHECK(fam.metric[0].counter.value == 1);
  CHECK(fam.metric[1].counter.value == 3);
}

TEST_CASE("metrics: requests counted on many threads while /metrics is read, exactly") {
  metrics m;
  m.prepare_http({{"/r", {"GET"}, {200}}});
  constexpr int threads = 8, requests = 20000;
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < requests; ++i) {
        m.http_request("/r", "GET", 200, 0.0003);
        m.cache(cache_name::user_page, cache_result::hit);
      }
    });
  for (int i = 0; i < 20; ++i) // scrapes meanwhile: they only read
    CHECK(m.serialize().find("booking_http_requests_total") != std::string::npos);
  for (auto& t : ts)
    t.join();
  m.http_request("/other", "POST", 503, 0.5); // a series nobody prepared
  auto text = m.serialize();
  auto n = std::to_string(threads * requests);
  CHECK(text.find("booking_http_requests_total{method=\"GET\",route=\"/r\",status=\"200\"} " + n + "\n") != std::string::npos);
  CHECK(text.find("booking_http_request_duration_seconds_bucket{route=\"/r\",le=\"0.0005\"} " + n + "\n") != std::string::npos);
  CHECK(text.find("booking_http_request_duration_seconds_bucket{route=\"/r\",le=\"0.00025\"} 0\n") != std::string::npos);
  CHECK(text.find("booking_http_request_duration_seconds_count{route=\"/r\"} " + n + "\n") != std::string::npos);
  CHECK(text.find("booking_cache_requests_total{cache=\"user_page\",result=\"hit\"} " + n + "\n") != std::string::npos);
  CHECK(text.find("booking_http_requests_total{method=\"POST\",route=\"/other\",status=\"503\"} 1\n") != std::string::npos);
  CHECK(m.page_hit->value() == static_cast<std::uint64_t>(threads) * requests);
  // Each family once, with its type.
  CHECK(text.find("# TYPE booking_http_requests_total counter") != std::string::npos);
  CHECK(text.find("# TYPE booking_http_request_duration_seconds histogram") != std::string::npos);
  CHECK(text.find("# TYPE booking_cache_requests_total counter") == text.rfind("# TYPE booking_cache_requests_total counter"));
}
