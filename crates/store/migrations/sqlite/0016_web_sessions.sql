-- Web sign-in. A user's password, as an argon2id PHC string (never the password);
-- NULL: the user cannot sign in to the web UI.
ALTER TABLE users ADD COLUMN password_hash TEXT;

-- A signed-in browser, found by the SHA-256 of the random token its cookie holds.
-- `csrf_token` is the token every form of the session carries.
CREATE TABLE web_sessions (
    token_hash    TEXT    PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token    TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL
);
CREATE INDEX web_sessions_by_user ON web_sessions (user_id);
