-- Change events (deploys, config changes) per service: "what changed recently?"

CREATE TABLE change_events (
    id           BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service_id   BIGINT  NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    summary      TEXT    NOT NULL,
    source       TEXT,
    occurred_at  BIGINT  NOT NULL,
    received_at  BIGINT  NOT NULL,
    details      TEXT    NOT NULL,
    links        TEXT    NOT NULL
);
CREATE INDEX change_events_by_service ON change_events (service_id, occurred_at);
