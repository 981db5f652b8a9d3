-- Accepting a trigger counts it on its open alert at once, unless an event of that alert
-- that is not a trigger (an acknowledgement or resolution, which must not be overtaken)
-- waits in the inbox. Each event's action is kept in a column so that this index finds
-- such an event; rows stored before have none, which counts as not a trigger.
ALTER TABLE alert_events ADD COLUMN action TEXT;
CREATE INDEX alert_events_waiting_by_key ON alert_events (service_id, dedup_key)
    WHERE alert_id IS NULL AND failed_at IS NULL AND (action IS NULL OR action <> 'trigger');
