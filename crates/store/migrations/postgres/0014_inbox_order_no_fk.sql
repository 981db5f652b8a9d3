-- The inbox worker reads waiting events in id order. The index on (failed_at, id) could
-- not give that order (PostgreSQL does not treat `failed_at IS NULL` as fixing the first
-- column), so each pass sorted every waiting event to take the oldest thousand: during
-- a storm's backlog, tens of milliseconds a pass. This index is in that order.
CREATE INDEX alert_events_waiting_in_order ON alert_events (id)
    WHERE alert_id IS NULL AND failed_at IS NULL;
-- An event names its alert without a foreign key: the check cost every accepted event a
-- lookup and a share lock on its alert, the one row every writer of that alert updates.
-- Alerts are deleted only with their service, whose events are deleted with them
-- (`delete_service`).
ALTER TABLE alert_events DROP CONSTRAINT alert_inbox_alert_id_fkey;
