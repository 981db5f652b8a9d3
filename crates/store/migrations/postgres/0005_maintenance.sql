-- Maintenance windows: while one is on, a service's alerts are recorded but open no
-- incident.

CREATE TABLE maintenance_windows (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service_id  BIGINT  NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    starts_at   BIGINT  NOT NULL,
    ends_at     BIGINT  NOT NULL,
    reason      TEXT    NOT NULL,
    created_by  TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);
CREATE INDEX maintenance_windows_by_service ON maintenance_windows (service_id, ends_at);
