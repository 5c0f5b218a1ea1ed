-- Tamper evidence (issue 12, RFC 9162): each archived event's Merkle leaf hash in log
-- order, and the tree heads signed over them. The leaf hashes let `ghor audit verify` name
-- the first event that differs; the signatures make them trustworthy.
CREATE TABLE audit_leaves (
    scope TEXT NOT NULL,
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (scope, seq)
);

CREATE TABLE tree_heads (
    scope TEXT NOT NULL,
    size INTEGER NOT NULL,
    root BLOB NOT NULL,
    time TEXT NOT NULL,
    public_key BLOB NOT NULL,
    signature BLOB NOT NULL,
    PRIMARY KEY (scope, size)
);
