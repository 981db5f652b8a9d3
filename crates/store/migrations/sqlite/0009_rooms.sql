-- Where an incident is discussed in chat: its Slack channel, the thread in the incident
-- channel when it has no channel of its own, and the headline message kept up to date.
CREATE TABLE incident_rooms (
    incident_number  INTEGER PRIMARY KEY REFERENCES incidents (number),
    channel          TEXT    NOT NULL,
    thread_ts        TEXT,
    headline_ts      TEXT    NOT NULL
);
