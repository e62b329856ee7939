-- postback.lua: wrk replays pre-signed postbacks (tools/bench/pbgen.c), one per request,
-- each thread its own slice, so no order is sent twice.
local lines = {}
local file = os.getenv("PB_FILE")
for line in io.lines(file) do lines[#lines + 1] = line end
local threads = tonumber(os.getenv("PB_THREADS") or "2")
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("first", counter)
end

function init(args)
  i = first
end

request = function()
  local line = lines[i]
  if line == nil then
    wrk.thread:stop()
    return wrk.format("GET", "/healthz")
  end
  i = i + threads
  local tab = string.find(line, "\t", 1, true)
  local sig = string.sub(line, 1, tab - 1)
  local body = string.sub(line, tab + 1)
  return wrk.format("POST", "/postback",
    {["Content-Type"] = "application/json", ["X-Jejak-Signature"] = sig}, body)
end

done = function(summary, latency, requests)
  io.write(string.format("p50_ms %.3f\np99_ms %.3f\n", latency:percentile(50) / 1000,
                         latency:percentile(99) / 1000))
end
