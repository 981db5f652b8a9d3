-- The public status page: components (in at most one level of groups), the history of
-- their statuses as stretches (set by hand, or by an open incident), the incidents
-- published on the page, and the page's own row: the secret its public ids are derived
-- from, and a version that moves on with every change to what the page shows, so that
-- each replica knows when to rebuild its copy.

CREATE TABLE components (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    name                   TEXT    NOT NULL,
    description            TEXT,
    position               INTEGER NOT NULL,
    is_group               BOOLEAN NOT NULL,
    group_id               INTEGER REFERENCES components (id),
    services               TEXT    NOT NULL,   -- JSON array of service names
    only_show_if_degraded  BOOLEAN NOT NULL,
    showcase               BOOLEAN NOT NULL,
    start_date             TEXT,               -- YYYY-MM-DD
    manual_status          TEXT    NOT NULL,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL
);
CREATE UNIQUE INDEX components_by_name ON components (lower(name));

-- `incident_number` NULL: a status set by hand. `ended_at` NULL: it lasts.
CREATE TABLE component_periods (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    component_id     INTEGER NOT NULL REFERENCES components (id) ON DELETE CASCADE,
    incident_number  INTEGER REFERENCES incidents (number),
    status           TEXT    NOT NULL,
    started_at       INTEGER NOT NULL,
    ended_at         INTEGER
);
CREATE INDEX component_periods_open ON component_periods (component_id, incident_number)
    WHERE ended_at IS NULL;
CREATE INDEX component_periods_by_end ON component_periods (ended_at);

CREATE TABLE public_incidents (
    incident_number  INTEGER PRIMARY KEY REFERENCES incidents (number),
    published_at     INTEGER NOT NULL
);

CREATE TABLE status_page (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    secret   TEXT    NOT NULL,
    version  INTEGER NOT NULL
);
INSERT INTO status_page (id, secret, version) VALUES (1, lower(hex(randomblob(32))), 0);
