-- Paging: how people are reached, on-call schedules, escalation policies, and the jobs
-- table that holds everything that must happen later.

CREATE TABLE contact_methods (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL,
    address      TEXT    NOT NULL,
    label        TEXT,
    verified_at  INTEGER,
    created_at   INTEGER NOT NULL,
    UNIQUE (user_id, kind, address)
);

CREATE TABLE notification_rules (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id            INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    contact_method_id  INTEGER NOT NULL REFERENCES contact_methods (id) ON DELETE CASCADE,
    urgency            TEXT    NOT NULL,
    delay_minutes      INTEGER NOT NULL,
    UNIQUE (contact_method_id, urgency, delay_minutes)
);

-- A schedule and a policy are stored whole, as the JSON the domain validated.
CREATE TABLE schedules (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL UNIQUE,
    data        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE escalation_policies (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL UNIQUE,
    data        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

-- A job runs at `run_at`; a worker claims it by setting `locked_until` (a crashed
-- worker's claim runs out and another takes it). Done jobs are deleted in the same
-- transaction as their effects; a job that keeps failing is kept with `dead_at` set.
CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    kind             TEXT    NOT NULL,
    incident_number  INTEGER REFERENCES incidents (number),
    dedup_key        TEXT    NOT NULL UNIQUE,
    run_at           INTEGER NOT NULL,
    payload          TEXT    NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    locked_until     INTEGER,
    last_error       TEXT,
    dead_at          INTEGER,
    created_at       INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs (run_at) WHERE dead_at IS NULL;
CREATE INDEX jobs_by_incident ON jobs (incident_number);

-- Acknowledge and resolve links sent with notifications: a random token (stored as its
-- SHA-256) that works once, until it expires, without a login.
CREATE TABLE action_links (
    token_hash       TEXT    PRIMARY KEY,
    incident_number  INTEGER NOT NULL REFERENCES incidents (number),
    action           TEXT    NOT NULL,
    handle           TEXT    NOT NULL,
    expires_at       INTEGER NOT NULL,
    used_at          INTEGER
);
