-- wrk script of the benchmark (rig verb `bench`, docs/benchmark.md). Settings come from the environment because
-- wrk decides whether a script has delay() and response() when it loads it, before init() sees any argument:
--   BENCH_BODIES        file with one request per line: PATH <tab> AUTHORIZATION <tab> X-FORWARDED-FOR <tab> JSON BODY
--                       (an empty X-Forwarded-For sends no such header)
--   BENCH_RATE          requests per second of each thread (0: as fast as answers come). Requests are scheduled on
--                       a clock, one slot every 1/rate s, whichever connection is free takes the next slot; latency is
--                       measured from the send, so it is the collector's, not the pause's.
-- The bodies are read once and formatted once; request() only picks the next, so wrk spends its CPU on sockets.
local bodies = os.getenv("BENCH_BODIES")
local rate = tonumber(os.getenv("BENCH_RATE") or "0")

local requests = {}
local next_index = 0

function init(args)
  for line in io.lines(bodies) do
    local path, authorization, forwarded, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = { ["Authorization"] = authorization, ["Content-Type"] = "application/json" }
    if forwarded ~= "" then
      headers["X-Forwarded-For"] = forwarded
    end
    requests[#requests + 1] = wrk.format("POST", path, headers, body)
  end
  next_index = math.random(#requests)
end

function request()
  next_index = next_index % #requests + 1
  return requests[next_index]
end

if rate > 0 then
  local ffi = require("ffi")
  ffi.cdef [[
    typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
    int clock_gettime(int clock, bench_timespec *now);
  ]]
  local now = ffi.new("bench_timespec")
  local interval = 1000 / rate
  local next_slot = 0

  local function now_ms()
    ffi.C.clock_gettime(1, now) -- CLOCK_MONOTONIC
    return tonumber(now.tv_sec) * 1000 + tonumber(now.tv_nsec) / 1e6
  end

  -- Milliseconds until this request's slot; a schedule that fell behind restarts from now (no catch-up burst).
  function delay()
    local t = now_ms()
    if next_slot < t then
      next_slot = t
    end
    local wait = next_slot - t
    next_slot = next_slot + interval
    return wait
  end
end

-- One machine-readable line for the rig; latencies in microseconds.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"bytes":%d,"non2xx":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
