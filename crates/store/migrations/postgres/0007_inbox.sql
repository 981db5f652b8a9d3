-- The alert inbox: every accepted alert event, committed before the sender hears 202,
-- and removed in the same transaction that applies it to its alert. Rows are applied
-- in `id` order. No foreign key to services: an entry of a deleted service is dropped
-- when its turn comes.

CREATE TABLE alert_inbox (
    id           BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service_id   BIGINT  NOT NULL,
    dedup_key    TEXT    NOT NULL,
    received_at  BIGINT  NOT NULL,
    event        TEXT    NOT NULL,
    attempts     BIGINT  NOT NULL DEFAULT 0,
    last_error   TEXT,
    failed_at    BIGINT
);

