-- Subscribers of the public status page: e-mail addresses (pending until they confirm)
-- and webhooks, each following the whole page (`whole_page`) or the components and
-- groups listed in `subscriber_components`. `address_key` is the address as compared
-- (an e-mail address in lower case), unique per kind. `secret` signs a webhook's
-- deliveries. Unsubscribing deletes the row: an address is not kept once it asked to go.

CREATE TABLE subscribers (
    id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          TEXT    NOT NULL,   -- email | webhook
    address       TEXT    NOT NULL,
    address_key   TEXT    NOT NULL,
    whole_page    BOOLEAN NOT NULL,
    secret        TEXT,
    confirmed_at  BIGINT,
    created_at    BIGINT  NOT NULL
);
CREATE UNIQUE INDEX subscribers_by_address ON subscribers (kind, address_key);
CREATE INDEX subscribers_confirmed ON subscribers (confirmed_at);

CREATE TABLE subscriber_components (
    subscriber_id  BIGINT  NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    component_id   BIGINT  NOT NULL REFERENCES components (id) ON DELETE CASCADE,
    PRIMARY KEY (subscriber_id, component_id)
);
CREATE INDEX subscriber_components_by_component ON subscriber_components (component_id);
