-- wrk script for /r/<slug>: every request is a new visitor with its own user agent (so no
-- dedupe), counts responses the server marked as a valid click; `delay` throttles when
-- WRK_DELAY_MS is set (the half-load run).
local threads = {}
local counter = 0
valid = 0
local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "0")
local path = os.getenv("WRK_PATH") or "/"

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  local visitor = string.format("bench%02d%017d", id, counter)
  return wrk.format("GET", path, {
    ["Cookie"] = "mgm_vid=" .. visitor,
    ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) Bench/" .. visitor,
    ["Sec-Fetch-Mode"] = "navigate",
    ["Sec-Fetch-Dest"] = "document",
  })
end

function response(status, headers, body)
  local v = headers["X-MGM-Click"] or headers["x-mgm-click"]
  if v == "valid" then valid = valid + 1 end
end

if delay_ms > 0 then
  function delay() return delay_ms end
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("valid") end
  io.write(string.format("VALID_SERVED %d\n", total))
end
