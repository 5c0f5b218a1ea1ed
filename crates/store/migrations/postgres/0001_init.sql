-- The production read model and mutable stores on PostgreSQL. The event log itself lives
-- in NATS JetStream; everything here is folded from it (except tokens and contacts).

-- The projector's cursor per scope: the last log sequence folded in, and the log epoch it
-- belongs to. Commits lock this row (SELECT ... FOR UPDATE) to fence out a second projector.
CREATE TABLE checkpoints (
    scope TEXT PRIMARY KEY,
    epoch UUID NOT NULL,
    seq BIGINT NOT NULL
);

-- The current view of each region, as the gateway serves it.
CREATE TABLE read_regions (
    scope TEXT NOT NULL,
    region TEXT NOT NULL,
    view JSONB NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (scope, region)
);

-- The current view of each location, with the region it belongs to.
CREATE TABLE read_locations (
    scope TEXT NOT NULL,
    location TEXT NOT NULL,
    region TEXT NOT NULL,
    view JSONB NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (scope, location)
);

CREATE INDEX read_locations_region ON read_locations (scope, region);

-- Log entries the projector could not fold, with the reason, for a person to look at.
CREATE TABLE quarantine (
    scope TEXT NOT NULL,
    seq BIGINT NOT NULL,
    location TEXT,
    reason TEXT NOT NULL,
    body JSONB NOT NULL,
    PRIMARY KEY (scope, seq)
);

-- Full pictures now and then, so a projector restarts from the newest one of its epoch
-- instead of the start of the log; only the newest few per scope are kept.
CREATE TABLE snapshots (
    scope TEXT NOT NULL,
    epoch UUID NOT NULL,
    seq BIGINT NOT NULL,
    picture JSONB NOT NULL,
    PRIMARY KEY (scope, epoch, seq)
);

-- Every folded event, with queryable columns (type, region, time) beside the stored
-- CloudEvent. An event that reached the log twice is archived once: unique on
-- (scope, source, id).
CREATE TABLE archive (
    scope TEXT NOT NULL,
    seq BIGINT NOT NULL,
    source TEXT NOT NULL,
    id UUID NOT NULL,
    type TEXT NOT NULL,
    region TEXT NOT NULL,
    time TIMESTAMPTZ NOT NULL,
    received TIMESTAMPTZ NOT NULL,
    body JSONB NOT NULL,
    UNIQUE (scope, source, id)
);

CREATE INDEX archive_received ON archive (scope, received);
CREATE INDEX archive_region_time ON archive (scope, region, time);
CREATE INDEX archive_type_time ON archive (scope, type, time);

-- Bearer tokens, found by the hash of their secret (the secret itself is never stored).
CREATE TABLE tokens (
    id UUID PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    info JSONB NOT NULL
);

-- Functional contacts per location: personal data, kept out of the log so they can be
-- corrected and erased.
CREATE TABLE contacts (
    location TEXT PRIMARY KEY,
    contacts JSONB NOT NULL
);
