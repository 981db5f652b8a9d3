-- Alerts: one deduplicated signal each, unique per (service, dedup key) while open, with
-- every event that arrived for it.

CREATE TABLE alerts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    service_id       INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    dedup_key        TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    summary          TEXT    NOT NULL,
    severity         TEXT    NOT NULL,
    source           TEXT,
    labels           TEXT    NOT NULL,
    details          TEXT    NOT NULL,
    links            TEXT    NOT NULL,
    group_key        TEXT,
    incident_number  INTEGER REFERENCES incidents (number),
    first_seen_at    INTEGER NOT NULL,
    last_seen_at     INTEGER NOT NULL,
    repeat_count     INTEGER NOT NULL,
    acknowledged_at  INTEGER,
    resolved_at      INTEGER
);
CREATE UNIQUE INDEX alerts_open_by_key ON alerts (service_id, dedup_key) WHERE status <> 'resolved';
CREATE INDEX alerts_by_group ON alerts (service_id, group_key);
CREATE INDEX alerts_by_incident ON alerts (incident_number);

CREATE TABLE alert_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id     INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    action       TEXT    NOT NULL,
    received_at  INTEGER NOT NULL,
    data         TEXT    NOT NULL
);
CREATE INDEX alert_events_by_alert ON alert_events (alert_id);
