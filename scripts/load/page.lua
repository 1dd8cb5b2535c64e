-- Warm booking page over N users: every request rotates to the next user's token.
-- wrk -s page.lua URL -- TOKENS_CSV [USERS] [LANG]
package.path = debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua;" .. package.path
local common = require("common")
local tokens, idx, path

setup = common.setup

function init(args)
  tokens = common.read_tokens(args[1], tonumber(args[2] or "10000"))
  path = "/" .. (args[3] or "en") .. "/v2/training/booking"
  idx = (id or 1) * 7919 % #tokens
end

function request()
  idx = idx % #tokens + 1
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. tokens[idx].token })
end

function done(summary, latency, requests)
  common.done(scenario_name or "page", summary, latency)
end
