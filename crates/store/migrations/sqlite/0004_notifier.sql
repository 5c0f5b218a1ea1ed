-- The notifier (§3.7): its cursor per scope, beside the projector's, and the webhook
-- endpoints of organisations per scope with their signing secrets (never in the log).
CREATE TABLE notifier_checkpoints (
    scope TEXT PRIMARY KEY,
    epoch TEXT NOT NULL,
    seq INTEGER NOT NULL
);

CREATE TABLE webhooks (
    scope TEXT NOT NULL,
    organisation TEXT NOT NULL,
    endpoints TEXT NOT NULL,
    PRIMARY KEY (scope, organisation)
);
