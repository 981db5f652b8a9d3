#!/usr/bin/env bash
# Time from `klaxon serve` starting on an existing database to /readyz answering 200,
# over several restarts, and the server's idle resident memory afterwards.
#   cargo build --profile dist && bench/startup.sh
set -euo pipefail
bin=${KLAXON_BIN:-target/dist/klaxon}
runs=${RUNS:-10}
port=${PORT:-18089}
dir=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$dir"' EXIT
export KLAXON_BOOTSTRAP_TOKEN=klx_startup_bench_token_0123456789

wait_ready() {
    for _ in $(seq 1 2000); do
        curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return 0
        sleep 0.001
    done
    echo "server did not become ready" >&2
    return 1
}

# The first start creates and migrates the database; it is not measured.
"$bin" serve --data-dir "$dir" --listen "127.0.0.1:$port" >/dev/null 2>&1 &
pid=$!
wait_ready
kill "$pid"; wait "$pid" || true

times=()
for _ in $(seq 1 "$runs"); do
    start=$(date +%s%N)
    "$bin" serve --data-dir "$dir" --listen "127.0.0.1:$port" >/dev/null 2>&1 &
    pid=$!
    wait_ready
    times+=($(( ($(date +%s%N) - start) / 1000000 )))
    if [ "${#times[@]}" -lt "$runs" ]; then kill "$pid"; wait "$pid" || true; fi
done
sleep 5
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
sorted=$(printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' ')
echo "ready_ms (sorted, $runs runs): $sorted"
echo "ready_ms_median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
echo "idle_rss_mb=$(awk -v kb="$rss_kb" 'BEGIN {printf "%.1f", kb/1024}')"
