#!/usr/bin/env bash
# Klaxon's SQLite row of bench/ingest.sh alone, for quick before/after comparisons:
# wrk -t${T:-2} -c32 -d${D:-15s} against POST /v2/enqueue on a fresh database.
#   cargo build --profile dist -p klaxon && bench/ingest-sqlite.sh
#   TW=1 bench/ingest-sqlite.sh        # with TOKIO_WORKER_THREADS=1
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
port=${PORT:-18095}
export KLAXON_BOOTSTRAP_TOKEN=klx_ingest_bench_token_0123456789 KLAXON_LOG=warn
env ${TW:+TOKIO_WORKER_THREADS=$TW} target/dist/klaxon serve --database-url "sqlite://$work/k.db" \
    --listen "127.0.0.1:$port" --ingest-rate-limit 100000000 >"$work/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 250); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.02; done
key=$(KLAXON_URL="http://127.0.0.1:$port" KLAXON_TOKEN=$KLAXON_BOOTSTRAP_TOKEN target/dist/klaxon service create bench --json \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["integration_key"])')
TARGET=klaxon KEYS=5000 ROUTING_KEY=$key wrk -t"${T:-2}" -c32 -d"${D:-15s}" -s bench/wrk/events.lua "http://127.0.0.1:$port" | grep RESULT
