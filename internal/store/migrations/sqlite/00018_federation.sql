-- +goose Up
-- Federation: what this instance mirrors of its peers' public registries
-- (one row per peer label, as last seen), the disagreements it has found
-- (public alarms with their evidence; one row per peer, kind and subject,
-- kept when resolved), and how long a peer's status change took to reach
-- this instance's mirror (the propagation indicator).
CREATE TABLE mirror_labels (
    peer              TEXT NOT NULL,
    label_id          TEXT NOT NULL,
    status            TEXT NOT NULL,
    credential_sha256 TEXT NOT NULL,
    -- disagrees_since: when the registry first showed a status its log did
    -- not hold ('' while they agree); an alarm is raised past a grace period.
    disagrees_since   TEXT NOT NULL,
    seen_at           TEXT NOT NULL,
    PRIMARY KEY (peer, label_id)
);
CREATE TABLE federation_alarms (
    id          INTEGER PRIMARY KEY,
    peer        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    summary     TEXT NOT NULL,
    evidence    TEXT NOT NULL,
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL,
    resolved_at TEXT NOT NULL,
    UNIQUE (peer, kind, subject)
);
CREATE INDEX federation_alarms_open ON federation_alarms (resolved_at, last_seen);
CREATE TABLE mirror_propagation (
    id         INTEGER PRIMARY KEY,
    peer       TEXT NOT NULL,
    label_id   TEXT NOT NULL,
    status     TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    seen_at    TEXT NOT NULL
);
CREATE INDEX mirror_propagation_peer ON mirror_propagation (peer, id);

-- +goose Down
DROP TABLE mirror_propagation;
DROP TABLE federation_alarms;
DROP TABLE mirror_labels;
