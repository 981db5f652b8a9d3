-- GET requests of one path, reporting one RESULT line as events.lua does.
--   TARGET: the label printed (summary.json, status, ceiling).
local target = os.getenv("TARGET") or "get"

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout
  io.write(string.format(
    "RESULT target=%s requests=%d seconds=%.2f rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f bytes_per_request=%.0f errors=%d non2xx=%d\n",
    target, summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, summary.bytes / math.max(summary.requests, 1),
    errors, summary.errors.status))
end
