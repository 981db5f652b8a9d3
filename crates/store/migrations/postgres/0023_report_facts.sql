-- What reports read of each incident, kept beside its projection so that a year of
-- incidents is read without parsing projections or events (store `sql/metrics.rs`):
-- `facts`, the projection's fields the metrics use, rewritten with the projection, and
-- `fact_events`, the events they use as `[type, recorded_at, value]` JSON arrays each
-- followed by a space, appended with the events. Filled here for incidents already held.
ALTER TABLE incidents ADD COLUMN facts TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN fact_events TEXT NOT NULL DEFAULT '';

UPDATE incidents SET
    facts = (
        SELECT json_build_object(
            'number', number,
            'title', j -> 'title',
            'severity', severity,
            'status', status,
            'service', service,
            'declared_at', j -> 'declared_at',
            'acknowledged_at', j -> 'acknowledged_at',
            'mitigated_at', j -> 'mitigated_at',
            'resolved_at', j -> 'resolved_at',
            'customer_facing', j -> 'customer_facing',
            'drill', j -> 'drill')::text
        FROM (SELECT incidents.data::json AS j) AS projection),
    fact_events = COALESCE((
        SELECT string_agg(json_build_array(e.type, e.recorded_at,
            CASE e.type
                WHEN 'status_updated' THEN (e.data::json) ->> 'audience'
                WHEN 'alert_attached' THEN (e.data::json) ->> 'dedup_key'
                WHEN 'role_assigned' THEN (e.data::json) ->> 'role'
            END)::text || ' ', '' ORDER BY e.seq)
        FROM incident_events e
        WHERE e.incident_number = incidents.number
          AND e.type IN ('status_updated', 'alert_attached', 'response_target_missed',
                         'role_assigned')), '');
