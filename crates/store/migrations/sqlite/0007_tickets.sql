-- Websocket tickets, by the hash of their secret: single-use and short-lived.
CREATE TABLE tickets (
    hash TEXT PRIMARY KEY,
    token TEXT NOT NULL,
    expires TEXT NOT NULL
);
CREATE INDEX tickets_by_expiry ON tickets (expires);
