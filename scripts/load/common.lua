-- Shared by the wrk scenarios: token rotation from the seed CSV, status counting across threads,
-- and a one-line JSON summary on stdout (wrk exits 0 even when every answer is an error).
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

local threads = {}

function M.setup(thread)
  thread:set("id", #threads + 1)
  threads[#threads + 1] = thread
end

-- Per-thread counters live in each thread's Lua state; `done` reads them back.
function M.count(key)
  counts = counts or {}
  counts[key] = (counts[key] or 0) + 1
end

function M.done(scenario, summary, latency, expected)
  local merged = {}
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    if c then
      for k, v in pairs(c) do merged[k] = (merged[k] or 0) + v end
    end
  end
  local unexpected = 0
  local parts = {}
  for k, v in pairs(merged) do
    parts[#parts + 1] = string.format('"%s": %d', k, v)
    if not expected[k] then unexpected = unexpected + v end
  end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    '\nRESULT {"scenario": "%s", "requests": %d, "duration_s": %.3f, "rps": %.1f, "avg_ms": %.3f, ' ..
    '"p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "socket_errors": %d, ' ..
    '"unexpected": %d, "statuses": {%s}}\n',
    scenario, summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency.mean / 1000, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, errors, unexpected + errors, table.concat(parts, ", ")))
end

return M
