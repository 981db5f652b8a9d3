-- Claims take the due jobs in (run_at, id) order with a LIMIT: with both columns in the
-- index, a claim reads only the rows it takes instead of sorting every due job (ten
-- thousand escalation steps due at the same minute share one run_at).
DROP INDEX jobs_due;
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE dead_at IS NULL;
