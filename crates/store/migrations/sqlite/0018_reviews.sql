-- Post-incident reviews: one per incident, its sections kept whole as the JSON the
-- domain checked (`data`), with copies of what lists filter on. `version` counts the
-- review's history entries; a write names the version it was decided from.
CREATE TABLE reviews (
    incident_number  INTEGER PRIMARY KEY REFERENCES incidents (number),
    status           TEXT    NOT NULL,
    owner            TEXT,
    due_at           INTEGER NOT NULL,
    version          INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    data             TEXT    NOT NULL
);
CREATE INDEX reviews_by_status_due ON reviews (status, due_at);

-- Every change to a review, in words: append-only.
CREATE TABLE review_history (
    incident_number  INTEGER NOT NULL REFERENCES reviews (incident_number),
    seq              INTEGER NOT NULL,
    at               INTEGER NOT NULL,
    actor            TEXT    NOT NULL,
    source           TEXT    NOT NULL,
    what             TEXT    NOT NULL,
    PRIMARY KEY (incident_number, seq)
);

-- A review's action items, numbered within it (`42-3`); `data` holds the whole item.
CREATE TABLE action_items (
    incident_number  INTEGER NOT NULL REFERENCES reviews (incident_number),
    number           INTEGER NOT NULL,
    owner            TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    category         TEXT    NOT NULL,
    due_at           INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    data             TEXT    NOT NULL,
    PRIMARY KEY (incident_number, number)
);
CREATE INDEX action_items_by_owner ON action_items (owner, due_at);
CREATE INDEX action_items_by_due ON action_items (due_at) WHERE status IN ('open', 'in_progress');
