#!/usr/bin/env bash
# How fast `/healthz` and `POST /v2/enqueue` answer with no other connections, and again
# while IDLE keep-alive connections (each served once) and SLOW half-sent requests are
# open. Each request is one curl, so its time includes curl's connection.
#   cargo build --profile dist && bench/idle-connections.sh
set -euo pipefail
bin=${KLAXON_BIN:-target/dist/klaxon}
idle=${IDLE:-2000}
slow=${SLOW:-200}
runs=${RUNS:-200}
port=${PORT:-18090}
token=klx_idle_bench_token_0123456789
dir=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$dir"' EXIT
ulimit -n "$(ulimit -Hn)"

KLAXON_BOOTSTRAP_TOKEN=$token "$bin" serve --data-dir "$dir" --listen "127.0.0.1:$port" \
    >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 200); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.05
done
key=$(curl -fs -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"name":"bench"}' "http://127.0.0.1:$port/api/v1/services" |
    sed -E 's/.*"integration_key":"([^"]+)".*/\1/')
event="{\"routing_key\":\"$key\",\"event_action\":\"trigger\",\"dedup_key\":\"idle-bench\",\
\"payload\":{\"summary\":\"bench\",\"source\":\"bench\",\"severity\":\"info\"}}"

# Prints "p50 max" in milliseconds of RUNS requests of the given curl arguments.
measure() {
    for _ in $(seq 1 "$runs"); do
        curl -s -o /dev/null -w '%{time_total} %{http_code}\n' "$@"
    done | sort -n | awk '$2 !~ /^2/ {bad++} {a[NR]=$1*1000}
        END {printf "p50 %.1f ms, max %.1f ms", a[int((NR+1)/2)], a[NR];
             if (bad) printf " (%d not 2xx!)", bad}'
}
healthz() { measure "http://127.0.0.1:$port/healthz"; }
enqueue() {
    measure -H 'Content-Type: application/json' -d "$event" "http://127.0.0.1:$port/v2/enqueue"
}

echo "no other connections:  /healthz $(healthz); /v2/enqueue $(enqueue)"

fds=()
for _ in $(seq 1 "$idle"); do
    exec {fd}<>"/dev/tcp/127.0.0.1/$port"
    printf 'GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n' >&"$fd"
    read -r -t 10 status <&"$fd"
    [[ $status == "HTTP/1.1 200"* ]] || { echo "idle connection not served: $status" >&2; exit 1; }
    fds+=("$fd")
done
# Half-sent heads: the server closes them after --header-timeout (10 s), so they are
# opened last and the measurement that follows stays well within it.
for _ in $(seq 1 "$slow"); do
    exec {fd}<>"/dev/tcp/127.0.0.1/$port"
    printf 'POST /v2/enqueue HTTP/1.1\r\nHost: bench\r\nContent-' >&"$fd"
    fds+=("$fd")
done
start=$(date +%s%N)
echo "$idle idle + $slow slow: /healthz $(healthz); /v2/enqueue $(enqueue)"
echo "(measured within $(( ($(date +%s%N) - start) / 1000000 )) ms of opening the slow ones)"
