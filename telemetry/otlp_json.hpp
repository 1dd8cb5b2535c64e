// OTLP/JSON encoding of spans (opentelemetry-proto's JSON mapping: lowerCamelCase field names,
// hex trace and span ids, enums as integers, 64-bit integers as decimal strings).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "telemetry/span.hpp"

namespace booking {

/// Who emits the spans: the OTLP resource.
struct resource_info {
  std::string service_name = "booking-server";
  std::string service_version;
  /// A random UUID per process unless given.
  std::string instance_id;
  static resource_info for_this_process(std::string service_name = "booking-server");
};

/// `{"resourceSpans": [...]}` of a batch.
nlohmann::json otlp_json(const std::vector<span_record>& spans, const resource_info& resource);

/// The `attributes` of the debug endpoint: plain JSON values.
nlohmann::json plain_attributes(const span_record& s);

} // namespace booking
