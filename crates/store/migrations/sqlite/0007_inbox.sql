-- The alert inbox: every accepted alert event, committed before the sender hears 202,
-- and removed in the same transaction that applies it to its alert. Rows are applied
-- in `id` order. No foreign key to services: an entry of a deleted service is dropped
-- when its turn comes.

CREATE TABLE alert_inbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    service_id   INTEGER NOT NULL,
    dedup_key    TEXT    NOT NULL,
    received_at  INTEGER NOT NULL,
    event        TEXT    NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    failed_at    INTEGER
);

