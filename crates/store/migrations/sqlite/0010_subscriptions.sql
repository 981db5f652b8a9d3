-- Stakeholders: who is told about incidents for a team the severity policy names
-- (engineering always, customer success when customer-facing, management for SEV1).
CREATE TABLE team_subscriptions (
    team     TEXT NOT NULL,
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (team, user_id)
);
