-- The notifier (§3.7): its cursor per scope, beside the projector's (every event up to it
-- has had its notifications delivered or given up; moved fenced, like the projector's),
-- and the webhook endpoints of organisations per scope with their signing secrets: kept
-- here, never in the log.
CREATE TABLE notifier_checkpoints (
    scope TEXT PRIMARY KEY,
    epoch UUID NOT NULL,
    seq BIGINT NOT NULL
);

CREATE TABLE webhooks (
    scope TEXT NOT NULL,
    organisation TEXT NOT NULL,
    endpoints JSONB NOT NULL,
    PRIMARY KEY (scope, organisation)
);
