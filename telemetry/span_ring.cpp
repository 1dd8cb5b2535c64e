#include "telemetry/span_ring.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace booking {

namespace {

// A span's encoding, in this process's byte order (it never leaves the process): ids, times, kind
// and status; then the name, the attributes (key, type index, value) and the links. Strings are a
// 32-bit length and their bytes.

template <class T>
void put(std::string& out, const T& v) {
  static_assert(std::is_trivially_copyable_v<T>);
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

void put_text(std::string& out, const std::string& s) {
  put(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

void encode(const span_record& s, std::string& out) {
  out.clear();
  put(out, s.trace);
  put(out, s.id);
  put(out, s.parent);
  put(out, s.start_ns);
  put(out, s.end_ns);
  put(out, static_cast<std::uint8_t>(s.kind));
  put(out, static_cast<std::uint8_t>(s.error));
  put_text(out, s.name);
  put(out, static_cast<std::uint32_t>(s.attributes.size()));
  for (auto& [key, value] : s.attributes) {
    put_text(out, key);
    put(out, static_cast<std::uint8_t>(value.index()));
    std::visit(
      [&](auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::string>)
          put_text(out, v);
        else
          put(out, v);
      },
      value);
  }
  put(out, static_cast<std::uint32_t>(s.links.size()));
  for (auto& [t, id] : s.links) {
    put(out, t);
    put(out, id);
  }
}

/// Reads back what `encode` wrote; `p` .. `end` is one span's bytes.
class reader {
public:
  reader(const char* p, const char* end) : p_(p), end_(end) {}

  template <class T>
  T get() {
    T v;
    need(sizeof v);
    std::memcpy(&v, p_, sizeof v);
    p_ += sizeof v;
    return v;
  }

  std::string text() {
    auto n = get<std::uint32_t>();
    need(n);
    std::string s{p_, n};
    p_ += n;
    return s;
  }

private:
  void need(std::size_t n) const {
    if (static_cast<std::size_t>(end_ - p_) < n)
      throw std::logic_error("span_ring: a span's encoding is cut short");
  }
  const char* p_;
  const char* end_;
};

span_record decode(const char* p, std::size_t n) {
  reader r{p, p + n};
  span_record s;
  s.trace = r.get<trace_id>();
  s.id = r.get<span_id>();
  s.parent = r.get<span_id>();
  s.start_ns = r.get<std::int64_t>();
  s.end_ns = r.get<std::int64_t>();
  s.kind = static_cast<span_kind>(r.get<std::uint8_t>());
  s.error = r.get<std::uint8_t>() != 0;
  s.name = r.text();
  auto attributes = r.get<std::uint32_t>();
  s.attributes.reserve(attributes);
  for (std::uint32_t i = 0; i < attributes; ++i) {
    auto key = r.text();
    switch (r.get<std::uint8_t>()) {
      case 0: s.attributes.emplace_back(std::move(key), r.text()); break;
      case 1: s.attributes.emplace_back(std::move(key), r.get<std::int64_t>()); break;
      case 2: s.attributes.emplace_back(std::move(key), r.get<double>()); break;
      default: s.attributes.emplace_back(std::move(key), r.get<bool>()); break;
    }
  }
  auto links = r.get<std::uint32_t>();
  s.links.reserve(links);
  for (std::uint32_t i = 0; i < links; ++i) {
    auto t = r.get<trace_id>();
    s.links.emplace_back(t, r.get<span_id>());
  }
  return s;
}

static_assert(std::variant_size_v<attribute_value> == 4, "decode() reads four attribute types");

// Where `encode` put the trace id and the end time.
constexpr std::size_t trace_at = 0;
constexpr std::size_t end_at = sizeof(trace_id) + 2 * sizeof(span_id) + sizeof(std::int64_t);

} // namespace

span_ring::span_ring(std::size_t max_spans, std::size_t max_bytes)
  : max_spans_(max_spans), cap_(max_bytes), bytes_(new char[max_bytes]) { // not value-initialised: untouched
  if (max_spans == 0 || max_bytes == 0)
    throw std::invalid_argument("span_ring: bounds must not be 0");
  slots_.reserve(max_spans);
}

template <class F>
void span_ring::each_intact(F&& f) const {
  auto oldest = slots_.size() < max_spans_ ? 0 : next_;
  for (std::size_t k = 0; k < slots_.size(); ++k) {
    auto [pos, n] = slots_[(oldest + k) % slots_.size()];
    if (head_ - pos <= cap_) // else newer spans filled the buffer over it
      f(pos, n);
  }
}

bool span_ring::push(const span_record& s) {
  // Encoded outside the lock, into a buffer each thread keeps: once it has grown to the largest span
  // this thread recorded, recording allocates nothing.
  thread_local std::string scratch;
  encode(s, scratch);
  auto n = scratch.size();
  if (n > cap_)
    return false;
  std::lock_guard<std::mutex> g{m_};
  auto pos = head_;
  auto off = static_cast<std::size_t>(pos % cap_);
  if (off + n > cap_) { // does not fit before the end: leave the tail empty and start at 0
    pos += cap_ - off;
    off = 0;
  }
  std::memcpy(bytes_.get() + off, scratch.data(), n);
  head_ = pos + n;
  std::pair<std::uint64_t, std::uint32_t> slot{pos, static_cast<std::uint32_t>(n)};
  if (slots_.size() < max_spans_)
    slots_.push_back(slot);
  else
    slots_[next_] = slot;
  next_ = (next_ + 1) % max_spans_;
  return true;
}

std::vector<span_record> span_ring::spans() const {
  // The intact spans' bytes are copied under the lock and decoded after it.
  std::string copy;
  std::vector<std::pair<std::size_t, std::size_t>> at; // offset in `copy`, length
  {
    std::lock_guard<std::mutex> g{m_};
    each_intact([&](std::uint64_t pos, std::uint32_t n) {
      at.emplace_back(copy.size(), n);
      copy.append(bytes_.get() + pos % cap_, n);
    });
  }
  std::vector<span_record> out;
  out.reserve(at.size());
  for (auto [off, n] : at)
    out.push_back(decode(copy.data() + off, n));
  return out;
}

std::vector<std::vector<span_record>> span_ring::newest_traces(std::size_t limit, std::size_t per_trace) const {
  // 1. Under the lock: the trace id, end time and place of every intact span (40 bytes each).
  struct kept {
    trace_id trace;
    std::int64_t end_ns;
    std::uint64_t pos;
    std::uint32_t n;
  };
  std::vector<kept> all;
  {
    std::lock_guard<std::mutex> g{m_};
    all.reserve(slots_.size());
    each_intact([&](std::uint64_t pos, std::uint32_t n) {
      kept e{{}, 0, pos, n};
      const char* p = bytes_.get() + pos % cap_;
      std::memcpy(e.trace.data(), p + trace_at, sizeof e.trace);
      std::memcpy(&e.end_ns, p + end_at, sizeof e.end_ns);
      all.push_back(e);
    });
  }
  // 2. Without it: the traces, their latest end, and the newest `limit` of them (ties: the one that
  // appeared first). Trace ids come from clients (their traceparent): they are grouped by sorting,
  // which no choice of ids can slow down, not in a hash table.
  std::vector<std::uint32_t> by_id(all.size());
  for (std::uint32_t i = 0; i < by_id.size(); ++i)
    by_id[i] = i;
  std::sort(by_id.begin(), by_id.end(), [&](auto a, auto b) {
    return all[a].trace != all[b].trace ? all[a].trace < all[b].trace : a < b;
  });
  std::vector<std::uint32_t> trace_of(all.size());
  std::vector<std::int64_t> latest;
  std::vector<std::uint32_t> first; // where each trace first appears: the smallest index of its run
  for (std::size_t k = 0; k < by_id.size();) {
    auto t = static_cast<std::uint32_t>(latest.size());
    latest.push_back(std::numeric_limits<std::int64_t>::min());
    first.push_back(by_id[k]);
    auto j = k;
    for (; j < by_id.size() && all[by_id[j]].trace == all[by_id[k]].trace; ++j) {
      trace_of[by_id[j]] = t;
      latest[t] = std::max(latest[t], all[by_id[j]].end_ns);
    }
    k = j;
  }
  std::vector<std::uint32_t> order(latest.size());
  for (std::uint32_t t = 0; t < order.size(); ++t)
    order[t] = t;
  std::sort(order.begin(), order.end(),
            [&](auto a, auto b) { return latest[a] != latest[b] ? latest[a] > latest[b] : first[a] < first[b]; });
  order.resize(std::min(order.size(), limit));
  constexpr auto not_chosen = std::numeric_limits<std::size_t>::max();
  std::vector<std::size_t> rank(latest.size(), not_chosen);
  for (std::size_t r = 0; r < order.size(); ++r)
    rank[order[r]] = r;
  // 3. Under the lock again: the bytes of the chosen traces' spans that are still intact.
  std::vector<std::size_t> taken(order.size(), 0);
  std::vector<std::pair<std::size_t, std::pair<std::size_t, std::size_t>>> at; // rank, (offset, length)
  std::string copy;
  {
    std::lock_guard<std::mutex> g{m_};
    for (std::size_t i = 0; i < all.size(); ++i) {
      auto r = rank[trace_of[i]];
      if (r == not_chosen || taken[r] >= per_trace || head_ - all[i].pos > cap_)
        continue;
      ++taken[r];
      at.push_back({r, {copy.size(), all[i].n}});
      copy.append(bytes_.get() + all[i].pos % cap_, all[i].n);
    }
  }
  std::vector<std::vector<span_record>> out(order.size());
  for (auto& [r, place] : at)
    out[r].push_back(decode(copy.data() + place.first, place.second));
  // A trace whose spans were all overwritten between the two looks is left out.
  out.erase(std::remove_if(out.begin(), out.end(), [](const auto& t) { return t.empty(); }), out.end());
  return out;
}

} // namespace booking
