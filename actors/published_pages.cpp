#include "actors/published_pages.hpp"

namespace booking {

published_pages::lookup published_pages::find(id_type user, std::uint64_t request_epoch, lang l,
                                              const date_range& r, const std::vector<location>* locs,
                                              std::chrono::steady_clock::time_point now, instant wall_now) const {
  lookup out;
  auto& sh = shard_of(user);
  std::lock_guard<std::mutex> g{sh.m};
  auto i = sh.map.find(user);
  if (i == sh.map.end())
    return out;
  auto& s = i->second;
  s.last_asked = now;
  // The body is picked under the shard's lock (a short loop over at most a few bodies): a hit
  // touches one reference count, the body's, and not the entry's or the actor's.
  if (const auto* e = s.entry.get(); e && e->epoch >= request_epoch && now < e->fresh_until)
    for (auto& b : e->bodies)
      if (b.language == l && b.range == r && b.locations.get() == locs && wall_now < b.valid_until) {
        out.body = b.body;
        return out;
      }
  out.owner = s.owner;
  return out;
}

void published_pages::claim(id_type user, std::uint64_t incarnation, user_cache_actor owner) {
  auto& sh = shard_of(user);
  std::lock_guard<std::mutex> g{sh.m};
  sh.map[user] = slot{incarnation, nullptr, std::move(owner)};
}

void published_pages::release(id_type user) {
  std::shared_ptr<const published_entry> gone; // freed outside the lock
  auto& sh = shard_of(user);
  std::lock_guard<std::mutex> g{sh.m};
  auto i = sh.map.find(user);
  if (i == sh.map.end())
    return;
  gone = std::move(i->second.entry);
  sh.map.erase(i); // the actor's handle goes with it: later requests ask the directory
}

void published_pages::publish(id_type user, std::uint64_t incarnation, std::shared_ptr<const published_entry> e) {
  auto& sh = shard_of(user);
  std::lock_guard<std::mutex> g{sh.m};
  auto i = sh.map.find(user);
  if (i != sh.map.end() && i->second.incarnation == incarnation)
    i->second.entry.swap(e); // the old entry is released when `e` leaves this scope
}

void published_pages::withdraw(id_type user, std::uint64_t incarnation) {
  std::shared_ptr<const published_entry> gone;
  auto& sh = shard_of(user);
  std::lock_guard<std::mutex> g{sh.m};
  auto i = sh.map.find(user);
  if (i != sh.map.end() && i->second.incarnation == incarnation)
    gone = std::move(i->second.entry);
}

void published_pages::set_locations(location_list ls) {
  std::lock_guard<std::mutex> g{locations_m_};
  current_raw_.store(ls.get(), std::memory_order_release);
  locations_.swap(ls); // the previous list lives on in the bodies that still refer to it
}

location_list published_pages::locations() const {
  std::lock_guard<std::mutex> g{locations_m_};
  return locations_;
}

std::chrono::steady_clock::time_point published_pages::last_asked(id_type user) const {
  auto& sh = shard_of(user);
  std::lock_guard<std::mutex> g{sh.m};
  auto i = sh.map.find(user);
  return i == sh.map.end() ? std::chrono::steady_clock::time_point{} : i->second.last_asked;
}

std::size_t published_pages::size() const {
  std::size_t n = 0;
  for (auto& sh : shards_) {
    std::lock_guard<std::mutex> g{sh.m};
    for (auto& kv : sh.map)
      n += kv.second.entry ? 1 : 0;
  }
  return n;
}

} // namespace booking
