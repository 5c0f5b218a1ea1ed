-- Subscriptions to alerts (issue 9), per scope, owned by the token that made them: an
-- email address and a webhook secret are personal data and secrets, kept here, never in
-- the log. `body` holds the subscription whole (region, kind, value, channels).
CREATE TABLE subscriptions (
    scope TEXT NOT NULL,
    id UUID NOT NULL,
    owner UUID NOT NULL,
    body JSONB NOT NULL,
    PRIMARY KEY (scope, id)
);

CREATE INDEX subscriptions_by_owner ON subscriptions (scope, owner);
