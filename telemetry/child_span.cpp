#include "telemetry/child_span.hpp"

#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <typeinfo>

namespace booking {

std::string span_text(std::string_view text, std::size_t max) {
  static const char replacement[] = "\xEF\xBF\xBD"; // U+FFFD
  std::string out;
  out.reserve(std::min(text.size(), max));
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  auto cont = [&](std::size_t i) { return i < text.size() && (byte(i) & 0xC0) == 0x80; };
  for (std::size_t i = 0; i < text.size();) {
    auto b = byte(i);
    std::size_t n = 0; // length of a well-formed sequence starting at i (RFC 3629), 0 if none
    if (b < 0x80) {
      n = 1;
    } else if (b >= 0xC2 && b <= 0xDF) {
      n = cont(i + 1) ? 2 : 0;
    } else if (b >= 0xE0 && b <= 0xEF) {
      bool second_ok = i + 1 < text.size() && (b == 0xE0   ? byte(i + 1) >= 0xA0 && byte(i + 1) <= 0xBF
                                               : b == 0xED ? byte(i + 1) >= 0x80 && byte(i + 1) <= 0x9F
                                                           : cont(i + 1));
      n = second_ok && cont(i + 2) ? 3 : 0;
    } else if (b >= 0xF0 && b <= 0xF4) {
      bool second_ok = i + 1 < text.size() && (b == 0xF0   ? byte(i + 1) >= 0x90 && byte(i + 1) <= 0xBF
                                               : b == 0xF4 ? byte(i + 1) >= 0x80 && byte(i + 1) <= 0x8F
                                                           : cont(i + 1));
      n = second_ok && cont(i + 2) && cont(i + 3) ? 4 : 0;
    }
    auto piece = n ? text.substr(i, n) : std::string_view{replacement, 3};
    if (out.size() + piece.size() > max)
      break;
    out.append(piece);
    i += n ? n : 1;
  }
  return out;
}

namespace {

const span_id no_span{};
const trace_id no_trace{};

std::unique_ptr<span_record> make_record(const trace_id& trace, const span_id& id, const span_id& parent,
                                         std::string_view name, span_kind kind, std::int64_t start) {
  auto r = std::make_unique<span_record>();
  r->trace = trace;
  r->id = id;
  r->parent = parent;
  r->name = span_text(name);
  r->kind = kind;
  r->start_ns = start;
  return r;
}

} // namespace

child_span::child_span(tracer* t, std::string_view name, const trace_context& parent, span_kind kind) {
  if (!t || !parent.sampled)
    return;
  t_ = t;
  rec_ = make_record(parent.trace, t->new_span_id(), parent.span, name, kind, unix_nanos());
}

child_span::child_span(tracer* t, std::string_view name, const hop& parent, span_kind kind) {
  if (!t || !parent.ctx.sampled)
    return;
  t_ = t;
  auto now = unix_nanos();
  rec_ = make_record(parent.ctx.trace, t->new_span_id(), parent.ctx.span, name, kind, parent.sent_ns);
  auto space = name.find(' ');
  rec_->attr("booking.actor.name", std::string(name.substr(0, space)));
  if (space != std::string_view::npos)
    rec_->attr("booking.actor.message", std::string(name.substr(space + 1)));
  rec_->attr("booking.actor.mailbox_wait_us", static_cast<std::int64_t>((now - parent.sent_ns) / 1000));
}

child_span child_span::with_context(tracer* t, std::string_view name, const trace_context& self,
                                    const std::optional<trace_context>& remote_parent, span_kind kind,
                                    std::int64_t start_ns) {
  child_span s;
  if (!t || !self.sampled)
    return s;
  s.t_ = t;
  s.rec_ = make_record(self.trace, self.span, remote_parent ? remote_parent->span : no_span, name, kind, start_ns);
  return s;
}

child_span child_span::new_root(tracer* t, std::string_view name, span_kind kind, std::int64_t start_ns) {
  child_span s;
  if (!t)
    return s;
  auto c = t->start_recorded_root();
  s.t_ = t;
  s.rec_ = make_record(c.trace, c.span, no_span, name, kind, start_ns);
  return s;
}

trace_context child_span::context() const {
  trace_context c;
  if (!rec_)
    return c;
  c.trace = rec_->trace;
  c.span = rec_->id;
  c.sampled = true;
  return c;
}

const span_id& child_span::id() const { return rec_ ? rec_->id : no_span; }
const trace_id& child_span::trace() const { return rec_ ? rec_->trace : no_trace; }

child_span& child_span::set(std::string_view key, std::string_view v) {
  if (rec_)
    rec_->attr(std::string(key), span_text(v));
  return *this;
}

child_span& child_span::set(std::string_view key, bool v) {
  if (rec_)
    rec_->attr(std::string(key), v);
  return *this;
}

child_span& child_span::set(std::string_view key, double v) {
  if (rec_)
    rec_->attr(std::string(key), v);
  return *this;
}

child_span& child_span::set_int(std::string_view key, std::int64_t v) {
  if (rec_)
    rec_->attr(std::string(key), v);
  return *this;
}

child_span& child_span::link(const trace_id& t, const span_id& s) {
  if (rec_ && !all_zero(s))
    rec_->links.emplace_back(t, s);
  return *this;
}

child_span& child_span::fail(std::string_view error_type) {
  if (rec_ && !rec_->error) {
    rec_->error = true;
    rec_->attr("error.type", std::string(error_type));
  }
  return *this;
}

void child_span::failed_by(const std::exception& e) {
  if (!rec_)
    return;
  int status = 0;
  char* readable = abi::__cxa_demangle(typeid(e).name(), nullptr, nullptr, &status);
  fail(status == 0 && readable ? readable : typeid(e).name());
  std::free(readable);
}

void child_span::end(std::int64_t end_ns) {
  if (!rec_)
    return;
  rec_->end_ns = end_ns ? end_ns : unix_nanos();
  if (rec_->end_ns < rec_->start_ns)
    rec_->end_ns = rec_->start_ns;
  t_->record(std::move(*rec_));
  rec_.reset();
}

child_span store_span(tracer* t, const char* operation, const std::optional<trace_context>& parent) {
  if (!parent)
    return {};
  child_span s{t, std::string("store ") + operation, *parent, span_kind::client};
  s.set("db.system.name", "sqlite").set("db.operation.name", operation);
  return s;
}

child_span background_store_span(tracer* t, const char* operation) {
  if (!t)
    return {};
  auto root = t->start(std::nullopt);
  auto s = child_span::with_context(t, std::string("store ") + operation, root, std::nullopt, span_kind::client,
                                    unix_nanos());
  s.set("db.system.name", "sqlite").set("db.operation.name", operation);
  return s;
}

} // namespace booking
