-- Websocket tickets, by the hash of their secret: single-use and short-lived, kept here so
-- that any gateway of a deployment takes a ticket another one issued.
CREATE TABLE tickets (
    hash TEXT PRIMARY KEY,
    token UUID NOT NULL,
    expires TIMESTAMPTZ NOT NULL
);
CREATE INDEX tickets_by_expiry ON tickets (expires);
