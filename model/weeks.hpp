// Grouping a user's bookings into the ISO weeks of a booking page.
#pragma once

#include <vector>

#include "model/time_zone.hpp"
#include "model/types.hpp"

namespace booking {

/// Every ISO week overlapping `r`, in order, each with the bookings whose session starts on a local date
/// inside `r`. `bookings` must be ordered by (starts_at, id); one pass, no nested scan.
std::vector<week> group_weeks(const date_range& r, const std::vector<booking>& bookings, const zone& z);

} // namespace booking
