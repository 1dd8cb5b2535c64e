-- Shared by the wrk scenarios: token rotation from the seed CSV, thread ids, and a one-line JSON
-- summary on stdout (wrk exits 0 even when every answer is an error).
local M = {}

function M.read_tokens(path, limit)
  local tokens = {}
  local f = assert(io.open(path, "r"), "cannot open tokens file " .. path)
  f:read("*l") -- header
  for line in f:lines() do
    local id, role, token = line:match("^(%d+),(%a+),(.+)$")
    if id and role == "member" then
      tokens[#tokens + 1] = { id = tonumber(id), token = token }
      if limit and #tokens >= limit then break end
    end
  end
  f:close()
  return tokens
end

local threads = 0

function M.setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

-- The scripts define no `response` function. With one, wrk copies every answer's headers and body
-- into the Lua VM; 10,000 members' distinct pages then cost the load generator about 9 µs of CPU an
-- answer more than the ceiling's one page, taken from the server on a machine they share
-- (docs/BENCHMARKS.md, "The load generator's share"). wrk counts answers of status 400 or more
-- itself. `expect_4xx`: such answers are business outcomes (the mixed load's 409s), and the caller
-- checks statuses against the server's own /metrics instead.
function M.done(scenario, summary, latency, expect_4xx)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  local high = summary.errors.status
  local unexpected = errors + (expect_4xx and 0 or high)
  io.write(string.format(
    '\nRESULT {"scenario": "%s", "requests": %d, "duration_s": %.3f, "rps": %.1f, "avg_ms": %.3f, ' ..
    '"p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "socket_errors": %d, ' ..
    '"unexpected": %d, "statuses": {"below 400": %d, "400 or more": %d}}\n',
    scenario, summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency.mean / 1000, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, errors, unexpected, summary.requests - high, high))
end

return M
