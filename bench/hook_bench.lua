-- wrk script for bench/hook_bench.py: POSTs a distinct VTEX order notification per request
-- (order id from the run, the thread and a counter), with the brand's hook token.
local threads = {}
local counter = 0
local path = os.getenv("WRK_PATH") or "/"
local run = os.getenv("WRK_RUN") or "0"
local account = os.getenv("WRK_ACCOUNT") or "bench"
local token = os.getenv("WRK_TOKEN") or ""
local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "0")

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"Domain":"Marketplace","OrderId":"H%s-%d-%d-01","State":"payment-approved",' ..
    '"LastChange":"2024-02-04T20:15:12.7010747Z","CurrentChange":"2024-02-04T20:15:13.%07dZ",' ..
    '"Origin":{"Account":"%s","Key":"k"}}',
    run, id, counter, counter % 10000000, account)
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/json",
    ["X-Hook-Token"] = token,
  }, body)
end

if delay_ms > 0 then
  function delay() return delay_ms end
end
