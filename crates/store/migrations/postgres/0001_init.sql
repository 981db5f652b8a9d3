-- Klaxon's schema on PostgreSQL. Instants are unix milliseconds (BIGINT).

CREATE TABLE users (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    handle      TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    email       TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);

CREATE TABLE api_tokens (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT    NOT NULL,
    scope       TEXT    NOT NULL,
    user_id     BIGINT  NOT NULL REFERENCES users (id),
    token_hash  TEXT    NOT NULL UNIQUE,
    created_at  BIGINT  NOT NULL,
    revoked_at  BIGINT
);

CREATE TABLE counters (
    name   TEXT    PRIMARY KEY,
    value  BIGINT  NOT NULL
);
INSERT INTO counters (name, value) VALUES ('incident_number', 0);

-- The projection of each incident's timeline; `data` holds the whole projection as
-- JSON, the other columns are copies for filtering.
CREATE TABLE incidents (
    number       BIGINT  PRIMARY KEY,
    slug         TEXT    NOT NULL UNIQUE,
    status       TEXT    NOT NULL,
    severity     BIGINT  NOT NULL,
    service      TEXT,
    restricted   BOOLEAN NOT NULL,
    drill        BOOLEAN NOT NULL,
    declared_at  BIGINT  NOT NULL,
    version      BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL,
    data         TEXT    NOT NULL
);
CREATE INDEX incidents_by_status ON incidents (status, number);
CREATE INDEX incidents_by_service ON incidents (service, number);
CREATE INDEX incidents_by_declared ON incidents (declared_at);

CREATE TABLE incident_events (
    incident_number  BIGINT  NOT NULL REFERENCES incidents (number),
    seq              BIGINT  NOT NULL,
    type             TEXT    NOT NULL,
    actor            TEXT    NOT NULL,
    source           TEXT    NOT NULL,
    recorded_at      BIGINT  NOT NULL,
    occurred_at      BIGINT,
    data             TEXT    NOT NULL,
    PRIMARY KEY (incident_number, seq)
);

-- The timeline is append-only: a correction is a new event.
CREATE FUNCTION incident_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'incident events are append-only';
END;
$$;
CREATE TRIGGER incident_events_append_only BEFORE UPDATE OR DELETE ON incident_events
    FOR EACH ROW EXECUTE FUNCTION incident_events_append_only();

CREATE TABLE incident_participants (
    incident_number  BIGINT  NOT NULL REFERENCES incidents (number),
    handle           TEXT    NOT NULL,
    PRIMARY KEY (incident_number, handle)
);
CREATE INDEX incident_participants_by_handle ON incident_participants (handle);
