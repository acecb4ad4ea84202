-- +goose Up
-- Schemes are versioned documents: a change adds a version and never edits
-- one, so a label can always point at the version it was issued under.
CREATE TABLE schemes (
    id              TEXT PRIMARY KEY,
    source          TEXT NOT NULL CHECK (source IN ('builtin', 'authority')),
    current_version INTEGER NOT NULL
);

CREATE TABLE scheme_versions (
    scheme_id  TEXT NOT NULL REFERENCES schemes (id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    label      TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('draft', 'active', 'closed')),
    document   TEXT NOT NULL,
    digest     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (scheme_id, version)
);

CREATE TABLE agreements (
    id       TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    document TEXT NOT NULL
);

-- +goose Down
DROP TABLE agreements;
DROP TABLE scheme_versions;
DROP TABLE schemes;
