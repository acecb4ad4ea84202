-- +goose Up
-- The log outbox: every decision is written here in the same transaction
-- as the decision itself, pending, then appended to the transparency log
-- and marked logged with its receipt. A decision can therefore never be in
-- the database without reaching the log: pending rows are completed at
-- start-up.
CREATE TABLE decisions (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,
    subject      TEXT NOT NULL,
    digest       TEXT NOT NULL,
    status       TEXT NOT NULL,
    status_index INTEGER NOT NULL,
    reason_hash  TEXT NOT NULL,
    at           TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'logged')),
    log_index    INTEGER,
    receipt      TEXT NOT NULL
);
CREATE INDEX decisions_pending ON decisions (state, id);
CREATE INDEX decisions_subject ON decisions (subject, id);

-- +goose Down
DROP TABLE decisions;
