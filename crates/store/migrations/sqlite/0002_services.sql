-- Services and the integration keys their alerts arrive with.

CREATE TABLE services (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT    NOT NULL UNIQUE,
    description    TEXT    NOT NULL,
    owner_team     TEXT,
    runbook_links  TEXT    NOT NULL,   -- JSON array of URLs
    rules          TEXT    NOT NULL,   -- JSON: grouping, severity map, auto-resolve
    created_at     INTEGER NOT NULL
);

CREATE TABLE integration_keys (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    service_id      INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    key             TEXT    NOT NULL UNIQUE,
    signing_secret  TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    revoked_at      INTEGER
);
CREATE INDEX integration_keys_by_service ON integration_keys (service_id);
