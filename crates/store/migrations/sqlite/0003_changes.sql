-- Change events (deploys, config changes) per service: "what changed recently?"

CREATE TABLE change_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    service_id   INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    summary      TEXT    NOT NULL,
    source       TEXT,
    occurred_at  INTEGER NOT NULL,
    received_at  INTEGER NOT NULL,
    details      TEXT    NOT NULL,
    links        TEXT    NOT NULL
);
CREATE INDEX change_events_by_service ON change_events (service_id, occurred_at);
