-- Mixed load: 90% booking pages, 10% writes (4% book, 3% cancel, 3% leave) over N users.
-- Cancels and leaves target upcoming `booked` bookings listed in BOOKINGS_FILE (user_id,booking_id),
-- each used at most once per thread. Business outcomes (409 session_full, not_cancellable, ...) are
-- expected: the caller reads the answers by status from the server's /metrics (scripts/bench,
-- `mixed_wrk`), since wrk only counts those of 400 or more.
-- wrk -s mixed.lua URL -- TOKENS_CSV USERS SESSION_IDS_FILE BOOKINGS_FILE
package.path = debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua;" .. package.path
local common = require("common")
local tokens, by_id, sessions, targets, idx, next_target

setup = common.setup

function init(args)
  tokens = common.read_tokens(args[1], tonumber(args[2] or "10000"))
  by_id = {}
  for _, t in ipairs(tokens) do by_id[t.id] = t.token end
  sessions = {}
  for line in io.lines(args[3]) do sessions[#sessions + 1] = line end
  -- Each thread takes every n-th target so threads never fight over one booking.
  targets = {}
  local k, me, n = 0, (id or 1), tonumber(args[5] or "1")
  for line in io.lines(args[4]) do
    k = k + 1
    local u, b = line:match("^(%d+),(%d+)$")
    if u and k % n == me - 1 and by_id[tonumber(u)] then targets[#targets + 1] = { token = by_id[tonumber(u)], booking = b } end
  end
  next_target = 1
  idx = (id or 1) * 104729 % #tokens
  math.randomseed(1000 + (id or 1))
end

local function headers(t) return { ["Authorization"] = "Bearer " .. t, ["Content-Type"] = "application/json" } end

function request()
  idx = idx % #tokens + 1
  local roll = math.random(100)
  if roll > 10 then
    return wrk.format("GET", "/en/v2/training/booking", headers(tokens[idx].token))
  end
  if roll > 4 and next_target <= #targets then
    local p = targets[next_target]
    next_target = next_target + 1
    if roll > 7 then
      return wrk.format("POST", "/en/v2/training/bookings/" .. p.booking .. "/cancel", headers(p.token), "")
    end
    return wrk.format("POST", "/en/v2/training/bookings/" .. p.booking .. "/leave", headers(p.token), '{"reason":"load test"}')
  end
  local s = sessions[math.random(#sessions)]
  return wrk.format("POST", "/en/v2/training/bookings", headers(tokens[idx].token), '{"session_id":' .. s .. '}')
end

function done(summary, latency, requests)
  common.done(scenario_name or "mixed", summary, latency, true)
end
