-- Heartbeat monitors: a ping is expected every `interval_seconds`; a missed one raises
-- an alert, the next ping resolves it. The state lives here, so a restart loses nothing.

CREATE TABLE heartbeats (
    id                BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service_id        BIGINT  NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    name              TEXT    NOT NULL,
    key               TEXT    NOT NULL UNIQUE,
    interval_seconds  BIGINT  NOT NULL,
    last_ping_at      BIGINT  NOT NULL,
    down              BOOLEAN NOT NULL,
    created_at        BIGINT  NOT NULL,
    UNIQUE (service_id, name)
);
