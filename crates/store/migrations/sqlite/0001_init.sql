-- The embedded default: log, read model and the mutable stores in one SQLite file.

CREATE TABLE log_epoch (
    scope TEXT PRIMARY KEY,
    epoch TEXT NOT NULL
);

CREATE TABLE events (
    scope TEXT NOT NULL,
    seq INTEGER NOT NULL,
    source TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (scope, seq),
    UNIQUE (scope, source, id)
);

CREATE TABLE checkpoints (
    scope TEXT PRIMARY KEY,
    epoch TEXT NOT NULL,
    seq INTEGER NOT NULL
);

CREATE TABLE read_regions (
    scope TEXT NOT NULL,
    region TEXT NOT NULL,
    view TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (scope, region)
);

CREATE TABLE read_locations (
    scope TEXT NOT NULL,
    location TEXT NOT NULL,
    region TEXT NOT NULL,
    view TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (scope, location)
);

CREATE TABLE quarantine (
    scope TEXT NOT NULL,
    seq INTEGER NOT NULL,
    location TEXT,
    reason TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (scope, seq)
);

CREATE TABLE snapshots (
    scope TEXT NOT NULL,
    epoch TEXT NOT NULL,
    seq INTEGER NOT NULL,
    picture TEXT NOT NULL,
    PRIMARY KEY (scope, epoch, seq)
);

CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    info TEXT NOT NULL
);

CREATE TABLE contacts (
    location TEXT PRIMARY KEY,
    contacts TEXT NOT NULL
);
