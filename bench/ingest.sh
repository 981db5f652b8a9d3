#!/usr/bin/env bash
# The ingest benchmark (docs/benchmarks.md): single-event triggers over HTTP with 32
# connections, the same load generator (wrk + bench/wrk/events.lua) against
#   - Alertmanager's POST /api/v2/alerts (in memory only),
#   - the ceiling: a bare axum handler that parses the event and answers 202,
#   - Klaxon's POST /v2/enqueue on SQLite and (with POSTGRES_URL) on PostgreSQL,
# in alternating rounds. Each target is loaded twice in a row: `cold` from a fresh start
# (for Klaxon under the default per-alert grouping, that opens 5,000 incidents with
# their escalation and announcement jobs in the first seconds) and `warm` with the
# alerts open, the steady state of a noisy source. Then a storm of 100,000 events over 5,000 dedup keys against a
# fresh Klaxon, measuring its resident memory once every event is applied.
#   apt-get install wrk prometheus-alertmanager
#   cargo build --profile dist -p klaxon -p klaxon-bench
#   POSTGRES_URL=postgres://postgres@127.0.0.1:5432 bench/ingest.sh
# PROBE_BIN: a klaxon built with bench/probes/postgres-accept-only.patch, loaded after
# each PostgreSQL round (see that file and docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${KLAXON_BIN:-target/dist/klaxon}
ceiling=${CEILING_BIN:-target/dist/ingest-ceiling}
alertmanager=${ALERTMANAGER_BIN:-$(command -v prometheus-alertmanager || command -v alertmanager)}
duration=${DURATION:-15s}
connections=${CONNECTIONS:-32}
threads=${THREADS:-2}
rounds=${ROUNDS:-3}
keys=${KEYS:-5000}
postgres=${POSTGRES_URL:-}
probe=${PROBE_BIN:-}
port=${PORT:-18090}
token=klx_ingest_bench_token_0123456789
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

wait_for() { # URL
    for _ in $(seq 1 500); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.02; done
    echo "nothing answered at $1" >&2; return 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }
# CPU time (clock ticks) of the server under load, and of every PostgreSQL process alive
# before and after (the server's own backends and PostgreSQL's background writers).
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
postgres_ticks() {
    local p total=0
    for p in $(pgrep -u postgres || true); do total=$((total + $(ticks "$p"))); done
    echo "$total"
}
load() { # TARGET URL [extra env]
    local server0 postgres0 out hz
    server0=$(ticks "$pid") postgres0=$(postgres_ticks)
    out=$(env TARGET="$1" KEYS="$keys" ROUTING_KEY="${routing_key:-}" "${@:3}" \
        wrk -t"$threads" -c"$connections" -d"$duration" --timeout 10s -s bench/wrk/events.lua "$2" \
        | grep '^RESULT' | sed "s/^RESULT /RESULT $label /")
    # CPU microseconds per answered request: the server's, and PostgreSQL's.
    hz=$(getconf CLK_TCK)
    echo "$out" | awk -v s=$(( $(ticks "$pid") - server0 )) -v p=$(( $(postgres_ticks) - postgres0 )) -v hz="$hz" '
        { print; for (i = 1; i <= NF; i++) if ($i ~ /^requests=/) { split($i, kv, "="); n = kv[2] } }
        END { if (n > 0) printf "  cpu_us_per_request server=%.1f postgres=%.1f\n", s * 1e6 / hz / n, p * 1e6 / hz / n }'
}
load_twice() { # TARGET URL: cold, then warm after a second's pause
    local base=$label
    label="$base cold" load "$@"
    sleep 1
    label="$base warm" load "$@"
    label=$base
}
inbox_depth() { curl -fs "http://127.0.0.1:$port/metrics" | awk '/^klaxon_alert_inbox_depth / {print $2}'; }
drain() { # prints seconds until every accepted event is applied
    local start; start=$(date +%s%N)
    until [ "$(inbox_depth)" = "0" ]; do sleep 0.05; done
    echo "scale=2; ($(date +%s%N) - $start) / 1000000000" | bc
}
klaxon() { # DATABASE_URL
    "$bin" serve --database-url "$1" --listen "127.0.0.1:$port" --ingest-rate-limit 100000000 \
        --log-format text >"$work/klaxon.log" 2>&1 &
    pid=$!
    wait_for "http://127.0.0.1:$port/readyz"
    routing_key=$(KLAXON_URL="http://127.0.0.1:$port" KLAXON_TOKEN=$token "$bin" service create bench --json \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["integration_key"])')
}
export KLAXON_BOOTSTRAP_TOKEN=$token KLAXON_LOG=warn

cat >"$work/am.yml" <<'YAML'
route:
  receiver: blackhole
receivers:
  - name: blackhole
YAML

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
echo "alertmanager: $("$alertmanager" --version 2>&1 | head -1)"
echo "load: wrk -t$threads -c$connections -d$duration, $keys distinct alerts"
for round in $(seq 1 "$rounds"); do
    label="round=$round alertmanager"
    "$alertmanager" --config.file="$work/am.yml" --storage.path="$work/am" \
        --web.listen-address="127.0.0.1:$port" --cluster.listen-address= >"$work/am.log" 2>&1 &
    pid=$!
    wait_for "http://127.0.0.1:$port/-/ready"
    load_twice alertmanager "http://127.0.0.1:$port"
    stop

    label="round=$round ceiling"
    "$ceiling" "127.0.0.1:$port" &
    pid=$!
    sleep 0.3
    routing_key=0123456789abcdef0123456789abcdef load klaxon "http://127.0.0.1:$port"
    stop

    label="round=$round klaxon-sqlite"
    klaxon "sqlite://$work/round-$round.db"
    load_twice klaxon "http://127.0.0.1:$port"
    echo "DRAIN $label seconds=$(drain)"
    stop

    if [ -n "$postgres" ]; then
        db="klaxon_ingest_bench_$round"
        psql "$postgres/postgres" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
        label="round=$round klaxon-postgres"
        klaxon "$postgres/$db"
        load_twice klaxon "http://127.0.0.1:$port"
        echo "DRAIN $label seconds=$(drain)"
        stop
        psql "$postgres/postgres" -qc "DROP DATABASE $db" >/dev/null
        if [ -n "$probe" ]; then
            # A build with bench/probes/postgres-accept-only.patch: the durable write alone.
            psql "$postgres/postgres" -qc "CREATE DATABASE $db" >/dev/null
            label="round=$round klaxon-postgres-probe"
            bin=$probe klaxon "$postgres/$db"
            load_twice klaxon "http://127.0.0.1:$port"
            stop
            psql "$postgres/postgres" -qc "DROP DATABASE $db" >/dev/null
        fi
    fi
done

# The storm: 100,000 events (two threads of 50,000) over 5,000 dedup keys. wrk waits out
# its duration even when its threads have stopped, so it is interrupted (and reports)
# once Klaxon has answered 100,000 of them.
accepted() {
    curl -fs "http://127.0.0.1:$port/metrics" \
        | awk '/^klaxon_http_requests_total\{.*route="\/v2\/enqueue".*status="202"/ {print $2}'
}
label="storm klaxon-sqlite"
klaxon "sqlite://$work/storm.db"
duration=600s load klaxon "http://127.0.0.1:$port" STOP_AFTER=50000 >"$work/storm.out" &
storm=$!
until [ "$(accepted || echo 0)" -ge 100000 ] 2>/dev/null; do sleep 0.2; done
kill -INT "$(pgrep -f 'wrk -t.* -d600s')" 2>/dev/null || true
wait "$storm" || true
cat "$work/storm.out"
echo "DRAIN $label seconds=$(drain) accepted=$(accepted)"
counted=$(python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(*c.execute("SELECT COUNT(*), SUM(repeat_count) FROM alerts").fetchone())' "$work/storm.db")
echo "STORM alerts_and_events_counted=$counted $(grep -E 'VmHWM|VmRSS' "/proc/$pid/status" | tr -s ' \t\n' ' ')"
stop
