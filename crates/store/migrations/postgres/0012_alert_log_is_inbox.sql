-- An accepted alert event is stored once: the inbox row becomes the entry on its alert's
-- log when it is applied (`alert_id` set), instead of being copied into a log table and
-- deleted. `alert_id IS NULL` marks an entry still waiting (or set aside, `failed_at`).
-- Events written without the inbox (people acknowledging an alert) go in applied.

ALTER TABLE alert_inbox ADD COLUMN alert_id BIGINT REFERENCES alerts (id) ON DELETE CASCADE;

INSERT INTO alert_inbox (service_id, dedup_key, received_at, event, alert_id)
SELECT a.service_id, a.dedup_key, e.received_at, e.data, e.alert_id
FROM alert_events e JOIN alerts a ON a.id = e.alert_id
ORDER BY e.id;

DROP TABLE alert_events;
ALTER TABLE alert_inbox RENAME TO alert_events;

CREATE INDEX alert_events_by_alert ON alert_events (alert_id) WHERE alert_id IS NOT NULL;
CREATE INDEX alert_events_waiting ON alert_events (failed_at, id) WHERE alert_id IS NULL;
