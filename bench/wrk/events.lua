-- One alert event per request, for Klaxon's Events API and Alertmanager's API alike,
-- so both are driven by the same load generator with the same kind of payload.
--   TARGET=klaxon        POST /v2/enqueue       (ROUTING_KEY required)
--   TARGET=alertmanager  POST /api/v2/alerts    (one alert in the array)
-- KEYS: distinct alerts (dedup keys / label sets) the requests cycle over.
-- STOP_AFTER: requests per thread before the thread stops (0: run for -d).
-- DELAY_MS: a pause before each connection's next request (0: none), to hold a storm
-- at about connections * 1000 / (DELAY_MS + latency) events a second.
local target = os.getenv("TARGET") or "klaxon"
local keys = tonumber(os.getenv("KEYS") or "5000")
local stop_after = tonumber(os.getenv("STOP_AFTER") or "0")
local routing_key = os.getenv("ROUTING_KEY") or ""
local delay_ms = tonumber(os.getenv("DELAY_MS") or "0")

local threads = {}
local counter = 0
local answered = 0
local thread_id = 0

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function init(args)
  counter = thread_id * 7919
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

local starts_at = os.date("!%Y-%m-%dT%H:%M:%SZ")

function request()
  counter = counter + 1
  local k = counter % keys
  local body, path
  if target == "alertmanager" then
    path = "/api/v2/alerts"
    body = string.format(
      '[{"labels":{"alertname":"DiskAlmostFull","instance":"host-%d:9100","severity":"critical"},' ..
      '"annotations":{"summary":"Disk almost full on host-%d"},"startsAt":"%s",' ..
      '"generatorURL":"http://prometheus.example/graph"}]', k, k, starts_at)
  else
    path = "/v2/enqueue"
    body = string.format(
      '{"routing_key":"%s","event_action":"trigger","dedup_key":"host-%d/disk",' ..
      '"payload":{"summary":"Disk almost full on host-%d","source":"host-%d:9100",' ..
      '"severity":"critical"}}', routing_key, k, k, k)
  end
  return wrk.format(nil, path, nil, body)
end

if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

function response(status, headers, body)
  answered = answered + 1
  if stop_after > 0 and answered >= stop_after then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout
  io.write(string.format(
    "RESULT target=%s requests=%d seconds=%.2f rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f errors=%d non2xx=%d\n",
    target, summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, errors, summary.errors.status))
end
