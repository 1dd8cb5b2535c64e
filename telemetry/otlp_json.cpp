#include "telemetry/otlp_json.hpp"

#include <cstdio>

#include "telemetry/metrics.hpp"

namespace booking {

namespace {

using nlohmann::json;

json any_value(const attribute_value& v) {
  if (auto s = std::get_if<std::string>(&v))
    return json{{"stringValue", *s}};
  if (auto i = std::get_if<std::int64_t>(&v))
    return json{{"intValue", std::to_string(*i)}}; // OTLP/JSON: 64-bit integers are strings
  if (auto d = std::get_if<double>(&v))
    return json{{"doubleValue", *d}};
  return json{{"boolValue", std::get<bool>(v)}};
}

json key_value(const std::string& k, const attribute_value& v) { return json{{"key", k}, {"value", any_value(v)}}; }

std::string random_uuid() {
  auto a = random_trace_id();
  a[6] = static_cast<std::uint8_t>((a[6] & 0x0f) | 0x40); // version 4
  a[8] = static_cast<std::uint8_t>((a[8] & 0x3f) | 0x80); // RFC 4122 variant
  auto h = to_hex(a);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

} // namespace

resource_info resource_info::for_this_process(std::string service_name) {
  resource_info r;
  r.service_name = std::move(service_name);
  r.service_version = build_version();
  r.instance_id = random_uuid();
  return r;
}

json plain_attributes(const span_record& s) {
  json attrs = json::object();
  for (auto& [k, v] : s.attributes)
    attrs[k] = std::visit([](const auto& x) { return json(x); }, v);
  return attrs;
}

json otlp_json(const std::vector<span_record>& spans, const resource_info& resource) {
  auto arr = json::array();
  for (auto& s : spans) {
    auto attrs = json::array();
    for (auto& [k, v] : s.attributes)
      attrs.push_back(key_value(k, v));
    json span{{"traceId", to_hex(s.trace)},
              {"spanId", to_hex(s.id)},
              {"name", s.name},
              {"kind", static_cast<int>(s.kind)},
              {"startTimeUnixNano", std::to_string(s.start_ns)},
              {"endTimeUnixNano", std::to_string(s.end_ns)},
              {"attributes", std::move(attrs)},
              {"status", s.error ? json{{"code", 2}} : json::object()}};
    if (!all_zero(s.parent))
      span["parentSpanId"] = to_hex(s.parent);
    if (!s.links.empty()) {
      auto links = json::array();
      for (auto& [lt, ls] : s.links)
        links.push_back(json{{"traceId", to_hex(lt)}, {"spanId", to_hex(ls)}});
      span["links"] = std::move(links);
    }
    arr.push_back(std::move(span));
  }
  auto res = json::array({key_value("service.name", resource.service_name),
                          key_value("service.version", resource.service_version),
                          key_value("service.instance.id", resource.instance_id),
                          key_value("telemetry.sdk.name", std::string("booking-telemetry")),
                          key_value("telemetry.sdk.language", std::string("cpp")),
                          key_value("telemetry.sdk.version", resource.service_version)});
  return json{{"resourceSpans",
               json::array({json{{"resource", {{"attributes", std::move(res)}}},
                                 {"scopeSpans", json::array({json{{"scope", {{"name", "booking"}, {"version", resource.service_version}}},
                                                                  {"spans", std::move(arr)}}})}}})}};
}

} // namespace booking
