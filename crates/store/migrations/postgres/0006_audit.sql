-- Tamper evidence (issue 12, RFC 9162): each archived event's Merkle leaf hash in log
-- order, and the tree heads signed over them. The leaf hashes let `ghor audit verify` name
-- the first event that differs; the signatures make them trustworthy.
CREATE TABLE audit_leaves (
    scope TEXT NOT NULL,
    seq BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    PRIMARY KEY (scope, seq)
);

CREATE TABLE tree_heads (
    scope TEXT NOT NULL,
    size BIGINT NOT NULL,
    root BYTEA NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    public_key BYTEA NOT NULL,
    signature BYTEA NOT NULL,
    PRIMARY KEY (scope, size)
);

-- `ghor audit` reads the archive in log order.
CREATE INDEX archive_seq ON archive (scope, seq);
