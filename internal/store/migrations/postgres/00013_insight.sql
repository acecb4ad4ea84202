-- +goose Up
-- Evidence for policy: targets organisations declare on indicators, and
-- the transparency reports published on them. Both are logged decisions:
-- the row keeps the declaration as JSON and the SHA-256 the log holds, so
-- a row changed behind the log's back no longer matches its entry. A
-- target is never rewritten; a new declaration supersedes it, and the old
-- one stays, marked with the target that replaced it.
CREATE TABLE targets (
    id            TEXT PRIMARY KEY,
    org_id        BIGINT NOT NULL REFERENCES organisations (id),
    body          TEXT NOT NULL,
    digest        TEXT NOT NULL,
    supersedes    TEXT NOT NULL,
    superseded_by TEXT NOT NULL,
    declared_at   TEXT NOT NULL
);
CREATE INDEX targets_org ON targets (org_id, declared_at);

CREATE TABLE transparency_reports (
    id           TEXT PRIMARY KEY,
    org_id       BIGINT NOT NULL REFERENCES organisations (id),
    period       TEXT NOT NULL,
    body         TEXT NOT NULL,
    digest       TEXT NOT NULL,
    published_at TEXT NOT NULL,
    UNIQUE (org_id, period)
);

-- Indicators rebuild label histories from the logged decisions.
CREATE INDEX decisions_logged ON decisions (state, log_index);

-- +goose Down
DROP INDEX decisions_logged;
DROP TABLE transparency_reports;
DROP TABLE targets;
