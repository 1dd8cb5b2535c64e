// A finished span as the tracer keeps and exports it, and the `hop` that carries a trace context
// across an asynchronous message.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "telemetry/trace_context.hpp"

namespace booking {

using attribute_value = std::variant<std::string, std::int64_t, double, bool>;

/// OTLP's SpanKind numbers. A PRODUCER hands a message to another actor without waiting for it;
/// its CONSUMER child may end after it (OpenTelemetry messaging conventions).
enum class span_kind { internal = 1, server = 2, client = 3, producer = 4, consumer = 5 };

struct span_record {
  trace_id trace{};
  span_id id{};
  span_id parent{}; // all zeros: a root span
  std::string name;
  span_kind kind = span_kind::internal;
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  bool error = false;
  std::vector<std::pair<std::string, attribute_value>> attributes;
  std::vector<std::pair<trace_id, span_id>> links;

  span_record& attr(std::string key, attribute_value v) {
    attributes.emplace_back(std::move(key), std::move(v));
    return *this;
  }
};

/// Longest string a span keeps as a name or attribute value, in bytes.
constexpr std::size_t span_text_max = 512;

/// `text` as a span may keep it: valid UTF-8 (each byte of an ill-formed sequence becomes U+FFFD, so
/// every JSON encoder takes it) and at most `max` bytes, cut at a character boundary. Attribute values
/// come from requests (path, query, User-Agent, Host): bytes an attacker chose.
std::string span_text(std::string_view text, std::size_t max = span_text_max);

/// A trace context sent inside an actor message, with the wall-clock time it was sent (the
/// receiver's span starts there, so its mailbox wait is inside it).
struct hop {
  trace_context ctx;
  std::int64_t sent_ns = 0;

  /// `ctx`, sent now (the time is read only for a sampled trace: nothing records otherwise).
  static hop sent(const trace_context& ctx) { return hop{ctx, ctx.sampled ? unix_nanos() : 0}; }
};

} // namespace booking
