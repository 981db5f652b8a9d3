#!/usr/bin/env bash
# The status page's benchmark (docs/benchmarks.md): the public page and its JSON under
# wrk, against the ceiling of a page served from memory, in the same run:
#   - the ceiling: `ingest-ceiling`, a bare axum handler answering every GET with a
#     fixed body, under the same wrk settings;
#   - Klaxon (`klaxon serve`, SQLite) with a page of components in groups and incidents
#     with customer updates: GET /api/v2/summary.json and GET /status, first alone,
#     then while an alert storm is ingested at the same time (bench/wrk/events.lua on
#     POST /v2/enqueue, critical triggers over KEYS distinct alerts, held at about
#     STORM_RATE events a second by STORM_CONNECTIONS connections pausing between
#     requests; it opens an incident per new alert, with its paging jobs).
# The page is asked for as wrk does by default (no Accept-Encoding) and, with
# ENCODINGS="identity gzip" (the default), as browsers do (Accept-Encoding: gzip).
# Prints one RESULT line per load and each load's requests/s as a ratio to the ceiling.
#   apt-get install wrk
#   cargo build --profile dist -p klaxon -p klaxon-bench
#   bench/status-page.sh                       # ROUNDS=2 DURATION=15s CONNECTIONS=64
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${KLAXON_BIN:-target/dist/klaxon}
ceiling=${CEILING_BIN:-target/dist/ingest-ceiling}
duration=${DURATION:-15s}
connections=${CONNECTIONS:-64}
threads=${THREADS:-2}
rounds=${ROUNDS:-2}
keys=${KEYS:-5000}
storm_rate=${STORM_RATE:-2000}
storm_connections=${STORM_CONNECTIONS:-8}
encodings=${ENCODINGS:-identity gzip}
database=${DATABASE_URL:-}
port=${PORT:-18092}
token=klx_status_bench_token_0123456789
work=$(mktemp -d)
pid=
storm=
cleanup() {
    [ -n "$storm" ] && kill "$storm" 2>/dev/null
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

wait_for() { # URL
    for _ in $(seq 1 500); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.02; done
    echo "nothing answered at $1" >&2; return 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
get() { # LABEL URL [ENCODING]: one wrk load of GETs, its RESULT line and the server's CPU per request
    local server0 out encoding=${3:-identity}
    server0=$(ticks "$pid")
    out=$(TARGET="$1" wrk -t"$threads" -c"$connections" -d"$duration" --timeout 10s --latency \
        -H "Accept-Encoding: $encoding" -s bench/wrk/get.lua "$2" | grep '^RESULT' \
        | sed "s/^RESULT /RESULT $label encoding=$encoding /")
    echo "$out" | awk -v s=$(( $(ticks "$pid") - server0 )) -v hz="$(getconf CLK_TCK)" '
        { print; for (i = 1; i <= NF; i++) if ($i ~ /^requests=/) { split($i, kv, "="); n = kv[2] } }
        END { if (n > 0) printf "  cpu_us_per_request server=%.1f\n", s * 1e6 / hz / n }'
}
rps() { sed -n 's/.*target='"$1"' .*rps=\([0-9]*\).*/\1/p' "$work/results" | tail -1; }
cli() { KLAXON_URL="http://127.0.0.1:$port" KLAXON_TOKEN=$token "$bin" "$@"; }
export KLAXON_BOOTSTRAP_TOKEN=$token KLAXON_LOG=warn

# What the page shows: components in two groups and on their own, each linked to a
# service; two incidents open with customer updates, three resolved ones in its history.
page() {
    cli service create api >/dev/null
    cli service create web >/dev/null
    cli service create webhooks >/dev/null
    cli service create payments >/dev/null
    cli service create mail >/dev/null
    cli component create Core --group >/dev/null
    cli component create "REST API" --in Core --service api --description "The public REST API" >/dev/null
    cli component create Dashboard --in Core --service web --description "The web dashboard" >/dev/null
    cli component create Webhooks --in Core --service webhooks >/dev/null
    cli component create Billing --group >/dev/null
    cli component create Payments --in Billing --service payments >/dev/null
    cli component create Invoices --in Billing --service payments >/dev/null
    cli component create "E-mail delivery" --service mail >/dev/null
    cli component create "Single sign-on" --description "SAML and OIDC sign-in" >/dev/null
    local n i
    for i in 1 2 3 4 5; do
        service=$(echo api web webhooks payments mail | cut -d' ' -f"$i")
        n=$(cli incident declare "Elevated errors on $service ($i)" --severity $((i % 3 + 1)) \
            --service "$service" --customer-facing --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["number"])')
        cli incident ack "$n" >/dev/null
        cli incident update "$n" --kind detected --audience customer --impact "some $service requests" >/dev/null
        cli incident update "$n" --kind update --audience customer --status Identified \
            --impact "some $service requests" --next-steps "rolling back the last release" >/dev/null
        cli incident update "$n" --kind update --status Investigating --progress "internal only" >/dev/null
        if [ "$i" -gt 2 ]; then
            cli incident mitigate "$n" --strategy rollback --action "rolled back" >/dev/null
            cli incident resolve "$n" >/dev/null
            cli incident update "$n" --kind resolved --audience customer \
                --customer-impact "some $service requests failed" >/dev/null
        fi
    done
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
echo "load: wrk -t$threads -c$connections -d$duration; storm about $storm_rate events/s on $storm_connections connections over $keys alerts"
for round in $(seq 1 "$rounds"); do
    : >"$work/results"
    echo "round $round: $(uptime | sed 's/.*load/load/')"
    label="round=$round"
    "$ceiling" "127.0.0.1:$port" &
    pid=$!
    wait_for "http://127.0.0.1:$port/fixed"
    get ceiling "http://127.0.0.1:$port/fixed" | tee -a "$work/results"
    stop

    url=${database:-sqlite://$work/round-$round.db}
    "$bin" serve --database-url "$url" --listen "127.0.0.1:$port" --ingest-rate-limit 100000000 \
        --status-page-name Acme --log-format text >"$work/klaxon.log" 2>&1 &
    pid=$!
    wait_for "http://127.0.0.1:$port/readyz"
    page
    routing_key=$(cli service create storm --json \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["integration_key"])')
    # The snapshot is rebuilt once the page changes; wait until it shows the incidents.
    for _ in $(seq 1 100); do
        curl -fs "http://127.0.0.1:$port/api/v2/incidents/unresolved.json" | grep -q 'Elevated errors' && break
        sleep 0.1
    done
    for encoding in identity gzip; do
        echo "BYTES encoding=$encoding" \
            "summary.json=$(curl -fs -H "Accept-Encoding: $encoding" "http://127.0.0.1:$port/api/v2/summary.json" | wc -c)" \
            "status=$(curl -fs -H "Accept-Encoding: $encoding" "http://127.0.0.1:$port/status" | wc -c)"
    done
    for encoding in $encodings; do
        get summary.json "http://127.0.0.1:$port/api/v2/summary.json" "$encoding" | tee -a "$work/results"
        get status "http://127.0.0.1:$port/status" "$encoding" | tee -a "$work/results"
    done

    # The storm, for every load of the page and two seconds either side.
    storm_seconds=$(( $(echo $encodings | wc -w) * 2 * (${duration%s} + 1) + 4 ))
    delay=$(( storm_connections * 1000 / storm_rate ))
    TARGET=klaxon KEYS=$keys ROUTING_KEY=$routing_key DELAY_MS=$delay \
        wrk -t1 -c"$storm_connections" -d"${storm_seconds}s" --timeout 10s -s bench/wrk/events.lua \
        "http://127.0.0.1:$port" >"$work/storm.out" &
    storm=$!
    sleep 2
    label="round=$round storm"
    for encoding in $encodings; do
        get summary.json "http://127.0.0.1:$port/api/v2/summary.json" "$encoding" | tee -a "$work/results"
        get status "http://127.0.0.1:$port/status" "$encoding" | tee -a "$work/results"
    done
    wait "$storm" || true
    storm=
    grep '^RESULT' "$work/storm.out" | sed "s/^RESULT /RESULT round=$round storm /"
    stop

    awk -v c="$(rps ceiling)" '
        /target=(summary.json|status) / {
            for (i = 1; i <= NF; i++) {
                if ($i ~ /^target=/) t = substr($i, 8)
                if ($i ~ /^encoding=/) e = substr($i, 10)
                if ($i ~ /^rps=/) r = substr($i, 5)
                if ($i ~ /^p99_ms=/) p = substr($i, 8)
            }
            storm = ($0 ~ / storm /) ? "storm" : "alone"
            printf "RATIO round=%s %s %s %s rps/ceiling=%.2f p99_ms=%s\n", "'"$round"'", t, e, storm, r / c, p
        }' "$work/results"
done
