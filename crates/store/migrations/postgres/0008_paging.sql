-- Paging: how people are reached, on-call schedules, escalation policies, and the jobs
-- table that holds everything that must happen later.

CREATE TABLE contact_methods (
    id           BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL,
    address      TEXT    NOT NULL,
    label        TEXT,
    verified_at  BIGINT,
    created_at   BIGINT  NOT NULL,
    UNIQUE (user_id, kind, address)
);

CREATE TABLE notification_rules (
    id                 BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id            BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    contact_method_id  BIGINT  NOT NULL REFERENCES contact_methods (id) ON DELETE CASCADE,
    urgency            TEXT    NOT NULL,
    delay_minutes      BIGINT  NOT NULL,
    UNIQUE (contact_method_id, urgency, delay_minutes)
);

-- A schedule and a policy are stored whole, as the JSON the domain validated.
CREATE TABLE schedules (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    data        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);

CREATE TABLE escalation_policies (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    data        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);

-- A job runs at `run_at`; a worker claims it by setting `locked_until` (a crashed
-- worker's claim runs out and another takes it). Done jobs are deleted in the same
-- transaction as their effects; a job that keeps failing is kept with `dead_at` set.
CREATE TABLE jobs (
    id               BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind             TEXT    NOT NULL,
    incident_number  BIGINT  REFERENCES incidents (number),
    dedup_key        TEXT    NOT NULL UNIQUE,
    run_at           BIGINT  NOT NULL,
    payload          TEXT    NOT NULL,
    attempts         BIGINT  NOT NULL DEFAULT 0,
    locked_until     BIGINT,
    last_error       TEXT,
    dead_at          BIGINT,
    created_at       BIGINT  NOT NULL
);
CREATE INDEX jobs_due ON jobs (run_at) WHERE dead_at IS NULL;
CREATE INDEX jobs_by_incident ON jobs (incident_number);

-- Acknowledge and resolve links sent with notifications: a random token (stored as its
-- SHA-256) that works once, until it expires, without a login.
CREATE TABLE action_links (
    token_hash       TEXT    PRIMARY KEY,
    incident_number  BIGINT NOT NULL REFERENCES incidents (number),
    action           TEXT    NOT NULL,
    handle           TEXT    NOT NULL,
    expires_at       BIGINT NOT NULL,
    used_at          BIGINT
);
