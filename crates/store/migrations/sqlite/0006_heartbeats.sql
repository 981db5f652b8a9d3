-- Heartbeat monitors: a ping is expected every `interval_seconds`; a missed one raises
-- an alert, the next ping resolves it. The state lives here, so a restart loses nothing.

CREATE TABLE heartbeats (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    service_id        INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    name              TEXT    NOT NULL,
    key               TEXT    NOT NULL UNIQUE,
    interval_seconds  INTEGER NOT NULL,
    last_ping_at      INTEGER NOT NULL,
    down              BOOLEAN NOT NULL,
    created_at        INTEGER NOT NULL,
    UNIQUE (service_id, name)
);
