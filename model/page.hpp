// The booking page of SPEC §4, rendered from a user snapshot.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/time_zone.hpp"
#include "model/types.hpp"

namespace booking {

struct rendered_page {
  std::string body;
  /// The page is correct until this instant: the next start of a listed `booked` session flips a state, and
  /// the next waitlist cut-off turns an entry `expired`.
  instant valid_until;
};

rendered_page render_page(const user_snapshot& snap, const date_range& r, const std::vector<location>& locs,
                          const zone& z, lang l, instant now,
                          std::chrono::seconds waitlist_cutoff = std::chrono::hours{14});

} // namespace booking
