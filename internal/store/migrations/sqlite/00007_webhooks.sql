-- +goose Up
-- Webhooks: an organisation's endpoints, and the delivery of each of its
-- notifications to each of them, with every attempt. The secret is kept as
-- is, not hashed: Hallmark signs every delivery with it, and a hash cannot
-- sign. A delivery is pending until it is delivered or given up (failed);
-- next_attempt_at orders the queue ('' once it is done).
CREATE TABLE webhook_endpoints (
    id         INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES organisations (id),
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (org_id);
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    endpoint_id     INTEGER NOT NULL REFERENCES webhook_endpoints (id),
    notification_id INTEGER NOT NULL REFERENCES notifications (id),
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL,
    next_attempt_at TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    UNIQUE (endpoint_id, notification_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE TABLE webhook_attempts (
    id              INTEGER PRIMARY KEY,
    delivery_id     INTEGER NOT NULL REFERENCES webhook_deliveries (id),
    attempt         INTEGER NOT NULL,
    at              TEXT NOT NULL,
    status_code     INTEGER NOT NULL,
    error           TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    UNIQUE (delivery_id, attempt)
);

-- +goose Down
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
