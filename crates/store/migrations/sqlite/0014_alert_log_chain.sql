-- Each alert's log is a chain: the alert names its newest event (`last_event_id`) and
-- each event on a log names the one before it (`prev_event_id`). An index on
-- `alert_id` put every accepted event into a different leaf of the index (an alert
-- storm spreads its events over all its alerts), so each commit wrote a page of the
-- index per event: most of the write-ahead log, and of the writer's time. The chain
-- costs nothing extra to keep: the alert's row is rewritten for every event anyway.
--
-- The table is rebuilt to drop two more costs of every accepted event: AUTOINCREMENT
-- (a read and write of sqlite_sequence per insert; new ids are still past every id in
-- the table, so acceptance order holds) and the foreign key on `alert_id` (a lookup per
-- insert; without the index, deleting an alert would scan the table). Alerts are
-- deleted only with their service, whose events `delete_service` deletes first.

ALTER TABLE alerts ADD COLUMN last_event_id INTEGER;
UPDATE alerts SET last_event_id = (SELECT MAX(e.id) FROM alert_events e WHERE e.alert_id = alerts.id);

CREATE TABLE alert_events_chained (
    id             INTEGER PRIMARY KEY,
    service_id     INTEGER NOT NULL,
    dedup_key      TEXT    NOT NULL,
    received_at    INTEGER NOT NULL,
    event          TEXT    NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT,
    failed_at      INTEGER,
    alert_id       INTEGER,
    action         TEXT,
    prev_event_id  INTEGER
);
INSERT INTO alert_events_chained
    (id, service_id, dedup_key, received_at, event, attempts, last_error, failed_at, alert_id, action, prev_event_id)
SELECT id, service_id, dedup_key, received_at, event, attempts, last_error, failed_at, alert_id, action,
       CASE WHEN alert_id IS NULL THEN NULL ELSE LAG(id) OVER (PARTITION BY alert_id ORDER BY id) END
FROM alert_events;
DROP TABLE alert_events;
ALTER TABLE alert_events_chained RENAME TO alert_events;

CREATE INDEX alert_events_waiting ON alert_events (failed_at, id) WHERE alert_id IS NULL;
CREATE INDEX alert_events_waiting_by_key ON alert_events (service_id, dedup_key)
    WHERE alert_id IS NULL AND failed_at IS NULL AND (action IS NULL OR action <> 'trigger');
