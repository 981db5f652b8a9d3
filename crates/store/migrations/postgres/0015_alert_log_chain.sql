-- Each alert's log is a chain: the alert names its newest event (`last_event_id`) and
-- each event on a log names the one before it (`prev_event_id`). The index on
-- `alert_id` took an insertion into a different part of the index for every accepted
-- event (an alert storm spreads its events over all its alerts); the chain costs
-- nothing extra to keep, as the alert's row is rewritten for every event anyway.

ALTER TABLE alerts ADD COLUMN last_event_id BIGINT;
ALTER TABLE alert_events ADD COLUMN prev_event_id BIGINT;

UPDATE alert_events e SET prev_event_id = p.prev
FROM (SELECT id, LAG(id) OVER (PARTITION BY alert_id ORDER BY id) AS prev
      FROM alert_events WHERE alert_id IS NOT NULL) p
WHERE e.id = p.id AND p.prev IS NOT NULL;

UPDATE alerts a SET last_event_id = l.last
FROM (SELECT alert_id, MAX(id) AS last FROM alert_events WHERE alert_id IS NOT NULL GROUP BY alert_id) l
WHERE a.id = l.alert_id;

DROP INDEX alert_events_by_alert;
