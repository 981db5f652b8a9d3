-- Scheduled maintenance on the public status page: planned work on components with a
-- window, a status (scheduled, in_progress, verifying, completed, cancelled) and its
-- updates. The maintenance windows of services it mutes point back at it, so that
-- rescheduling or cancelling moves or removes them.

CREATE TABLE scheduled_maintenances (
    id               BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             TEXT    NOT NULL,
    components       TEXT    NOT NULL,   -- JSON array of component ids
    scheduled_for    BIGINT  NOT NULL,
    scheduled_until  BIGINT  NOT NULL,
    status           TEXT    NOT NULL,
    auto_start       BOOLEAN NOT NULL,
    auto_complete    BOOLEAN NOT NULL,
    mute_services    BOOLEAN NOT NULL,
    started_at       BIGINT,
    completed_at     BIGINT,
    reminded_for     BIGINT,
    created_by       TEXT    NOT NULL,
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL,
    version          BIGINT  NOT NULL
);
CREATE INDEX scheduled_maintenances_by_end ON scheduled_maintenances (scheduled_until);

CREATE TABLE scheduled_maintenance_updates (
    maintenance_id  BIGINT  NOT NULL REFERENCES scheduled_maintenances (id) ON DELETE CASCADE,
    seq             BIGINT  NOT NULL,
    status          TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    posted_by       TEXT    NOT NULL,
    posted_at       BIGINT  NOT NULL,
    PRIMARY KEY (maintenance_id, seq)
);

ALTER TABLE maintenance_windows
    ADD COLUMN scheduled_maintenance_id BIGINT  REFERENCES scheduled_maintenances (id) ON DELETE CASCADE;
CREATE INDEX maintenance_windows_by_scheduled ON maintenance_windows (scheduled_maintenance_id)
    WHERE scheduled_maintenance_id IS NOT NULL;
