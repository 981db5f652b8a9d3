-- What reports read of each incident, kept beside its projection so that a year of
-- incidents is read without parsing projections or events (store `sql/metrics.rs`):
-- `facts`, the projection's fields the metrics use, rewritten with the projection, and
-- `fact_events`, the events they use as `[type, recorded_at, value]` JSON arrays each
-- followed by a space, appended with the events. Filled here for incidents already held.
ALTER TABLE incidents ADD COLUMN facts TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN fact_events TEXT NOT NULL DEFAULT '';

UPDATE incidents SET
    facts = json_object(
        'number', number,
        'title', data ->> '$.title',
        'severity', severity,
        'status', status,
        'service', service,
        'declared_at', data ->> '$.declared_at',
        'acknowledged_at', data ->> '$.acknowledged_at',
        'mitigated_at', data ->> '$.mitigated_at',
        'resolved_at', data ->> '$.resolved_at',
        'customer_facing', json(data -> '$.customer_facing'),
        'drill', json(data -> '$.drill')),
    fact_events = COALESCE((
        SELECT group_concat(json_array(e.type, e.recorded_at,
            CASE e.type
                WHEN 'status_updated' THEN e.data ->> '$.audience'
                WHEN 'alert_attached' THEN e.data ->> '$.dedup_key'
                WHEN 'role_assigned' THEN e.data ->> '$.role'
            END) || ' ', '' ORDER BY e.seq)
        FROM incident_events e
        WHERE e.incident_number = incidents.number
          AND e.type IN ('status_updated', 'alert_attached', 'response_target_missed',
                         'role_assigned')), '');
