-- Accepting a trigger counts it on its open alert at once, unless an event of that alert
-- waits in the inbox before it (an acknowledgement or resolution must not be overtaken).
-- This finds such an event without reading the whole inbox.
CREATE INDEX alert_events_waiting_by_key ON alert_events (service_id, dedup_key)
    WHERE alert_id IS NULL AND failed_at IS NULL;
