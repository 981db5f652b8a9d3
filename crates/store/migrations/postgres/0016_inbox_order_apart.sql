-- Accepting a trigger checks its alert for a waiting acknowledgement or resolution
-- (0013), a probe meant for alert_events_waiting_by_key. alert_events_waiting_in_order
-- (0014) fits that probe too, and PostgreSQL planned it there: the probe then walked
-- every waiting event, and after a storm of new alerts thousands of entries applied
-- since but not yet vacuumed away, once for each alert of each batch. The inbox index
-- now states a term that is always true (ids are positive) and that only the inbox
-- worker's read states with it, so it serves that read alone.
DROP INDEX alert_events_waiting_in_order;
CREATE INDEX alert_events_waiting_in_order ON alert_events (id)
    WHERE alert_id IS NULL AND failed_at IS NULL AND id > 0;
