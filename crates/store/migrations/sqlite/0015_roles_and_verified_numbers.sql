-- Users get a role: what they may do. A token acts with the lower of its scope and its
-- user's role. Existing users get the highest scope among their unrevoked tokens, or
-- responder when they have none; the first user, `admin`, is admin.
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'responder';
UPDATE users SET role = COALESCE((
    SELECT CASE MAX(CASE t.scope WHEN 'admin' THEN 3 WHEN 'responder' THEN 2 WHEN 'viewer' THEN 1 END)
               WHEN 3 THEN 'admin' WHEN 2 THEN 'responder' WHEN 1 THEN 'viewer' END
    FROM api_tokens t
    WHERE t.user_id = users.id AND t.revoked_at IS NULL
), 'responder');
UPDATE users SET role = 'admin' WHERE handle = 'admin';

-- A phone number is verified by a code sent to it, no longer by a delivered test
-- message: SMS and voice methods verified that way are verified again by their owners.
UPDATE contact_methods SET verified_at = NULL WHERE kind IN ('sms', 'voice');
CREATE INDEX contact_methods_by_address ON contact_methods (address);

-- The one code pending for a contact method: its hash (never the code), when it was
-- sent and how many tries were made at it.
CREATE TABLE contact_codes (
    contact_method_id  INTEGER PRIMARY KEY REFERENCES contact_methods (id) ON DELETE CASCADE,
    code_hash          TEXT    NOT NULL,
    sent_at            INTEGER NOT NULL,
    tries              INTEGER NOT NULL
);

-- Who has each phone number verified (by any of their SMS and voice methods with it):
-- one user per number, which the primary key holds even against concurrent claims.
CREATE TABLE verified_numbers (
    number       TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    verified_at  INTEGER NOT NULL
);

-- The contact method a page's links went to: a key press acknowledges only from the
-- verified voice method the call was placed to. Links made before this have none.
ALTER TABLE action_links ADD COLUMN contact_method_id INTEGER;
