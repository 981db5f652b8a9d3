#!/usr/bin/env bash
# A probe, not a feature: what PostgreSQL itself spends per accepted event on the least
# work that keeps an alert's log, with no Klaxon and no HTTP in the way. One statement of
# 16 events, as Klaxon's accepted-events writer sends (its batches hold 15-20 under
# bench/ingest.sh's load): a HOT update of 16 alerts' counters by id and an insert of 16
# log rows of an event's size, committed on its own. Nothing is looked up by dedup key,
# nothing is locked in order, no waiting acknowledgement is checked for, and no incident
# is touched: Klaxon's real statement does all four. Prints events/s and the backends'
# CPU per event, for 1 and 2 connections (docs/benchmarks.md, Limits).
#   POSTGRES_URL=postgres://postgres@127.0.0.1:5432 bench/probes/postgres-minimal-apply.sh
set -euo pipefail
export PGOPTIONS="-c client_min_messages=warning"
url=${POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}
db=klaxon_minimal_apply_probe
seconds=${SECONDS_EACH:-10}
work=$(mktemp -d)
trap 'rm -rf "$work"; psql "$url/postgres" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1' EXIT
psql "$url/postgres" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
psql "$url/$db" -q >/dev/null <<'SQL'
CREATE TABLE alerts (id BIGINT PRIMARY KEY, service_id BIGINT, dedup_key TEXT, status TEXT,
    summary TEXT, repeat_count BIGINT, last_seen_at BIGINT, last_event_id BIGINT, labels TEXT);
INSERT INTO alerts SELECT g, 1, 'host-' || g || '/disk', 'triggered', 'Disk almost full on host-' || g,
    1, 0, 0, repeat('l', 200) FROM generate_series(1, 5000) g;
CREATE UNIQUE INDEX ON alerts (service_id, dedup_key) WHERE status <> 'resolved';
CREATE TABLE alert_events (id BIGSERIAL PRIMARY KEY, service_id BIGINT, dedup_key TEXT,
    received_at BIGINT, event TEXT, alert_id BIGINT, action TEXT, prev_event_id BIGINT);
SQL
psql "$url/$db" -qc "VACUUM ANALYZE" >/dev/null
# The event text is the size of bench/wrk/events.lua's events as Klaxon stores them
# (pgbench reads `:name` as a variable, so the text has none).
cat >"$work/apply.sql" <<'SQL'
\set base random(1, 4984)
WITH counted AS (UPDATE alerts SET repeat_count = repeat_count + 1, last_seen_at = :base::bigint, summary = 'Disk almost full' WHERE id BETWEEN :base::bigint AND :base::bigint + 15) INSERT INTO alert_events (service_id, dedup_key, received_at, event, alert_id, action, prev_event_id) SELECT 1, 'host-' || g || '/disk', 123, '{"routing_key"="0123456789abcdef0123456789abcdef","event_action"="trigger","dedup_key"="host-1/disk","payload"={"summary"="Disk almost full on host-1","source"="host-1=9100","severity"="critical"},"received"="2026-11-27T16=00=00Z","client"=null,"client_url"=null,"links"=[],"images"=[]}' || g, g, 'trigger', g FROM generate_series(:base::bigint, :base::bigint + 15) g;
SQL
for clients in 1 2; do
    pgbench "$url/$db" -n -c "$clients" -j "$clients" -T "$seconds" -M prepared -f "$work/apply.sql" >"$work/out" 2>&1 &
    bench=$!
    # The backends' CPU, read just before they end with the run.
    sleep "$(echo "$seconds - 0.5" | bc)"
    ticks=0
    for p in $(psql "$url/postgres" -Atc "SELECT pid FROM pg_stat_activity WHERE datname = '$db' AND application_name = 'pgbench'"); do
        ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$p/stat")))
    done
    wait "$bench"
    tps=$(awk '/^tps/ {print $3}' "$work/out")
    awk -v tps="$tps" -v c="$clients" -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v s="$seconds" 'BEGIN {
        events = tps * 16
        printf "PROBE minimal-apply connections=%d statements_per_s=%.0f events_per_s=%.0f backend_cpu_us_per_event=%.1f\n",
            c, tps, events, t * 1e6 / hz / (events * (s - 0.5)) }'
done
