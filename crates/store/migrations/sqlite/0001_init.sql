-- Klaxon's schema on SQLite. Instants are unix milliseconds (INTEGER).

CREATE TABLE users (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    handle      TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    email       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL,
    scope       TEXT    NOT NULL,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    token_hash  TEXT    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);

CREATE TABLE counters (
    name   TEXT    PRIMARY KEY,
    value  INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('incident_number', 0);

-- The projection of each incident's timeline; `data` holds the whole projection as
-- JSON, the other columns are copies for filtering.
CREATE TABLE incidents (
    number       INTEGER PRIMARY KEY,
    slug         TEXT    NOT NULL UNIQUE,
    status       TEXT    NOT NULL,
    severity     INTEGER NOT NULL,
    service      TEXT,
    restricted   BOOLEAN NOT NULL,
    drill        BOOLEAN NOT NULL,
    declared_at  INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    data         TEXT    NOT NULL
);
CREATE INDEX incidents_by_status ON incidents (status, number);
CREATE INDEX incidents_by_service ON incidents (service, number);
CREATE INDEX incidents_by_declared ON incidents (declared_at);

CREATE TABLE incident_events (
    incident_number  INTEGER NOT NULL REFERENCES incidents (number),
    seq              INTEGER NOT NULL,
    type             TEXT    NOT NULL,
    actor            TEXT    NOT NULL,
    source           TEXT    NOT NULL,
    recorded_at      INTEGER NOT NULL,
    occurred_at      INTEGER,
    data             TEXT    NOT NULL,
    PRIMARY KEY (incident_number, seq)
);

-- The timeline is append-only: a correction is a new event.
CREATE TRIGGER incident_events_no_update BEFORE UPDATE ON incident_events
BEGIN
    SELECT RAISE(ABORT, 'incident events are append-only');
END;
CREATE TRIGGER incident_events_no_delete BEFORE DELETE ON incident_events
BEGIN
    SELECT RAISE(ABORT, 'incident events are append-only');
END;

CREATE TABLE incident_participants (
    incident_number  INTEGER NOT NULL REFERENCES incidents (number),
    handle           TEXT    NOT NULL,
    PRIMARY KEY (incident_number, handle)
);
CREATE INDEX incident_participants_by_handle ON incident_participants (handle);
