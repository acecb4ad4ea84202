-- +goose Up
-- The common language as of December 2026: where each framework's facts were
-- checked (sources, unverified facts), which items could not be confirmed and
-- which other framework's items the law deems to meet an item;
-- and a scheme may be paused (no new applications for now) besides draft,
-- active and closed. SQLite cannot change a CHECK constraint in place, so
-- scheme_versions is rebuilt with its rows.
ALTER TABLE frameworks ADD COLUMN provenance TEXT NOT NULL DEFAULT '';
ALTER TABLE framework_items ADD COLUMN unverified TEXT NOT NULL DEFAULT '';
ALTER TABLE framework_items ADD COLUMN deemed_by TEXT NOT NULL DEFAULT '';

CREATE TABLE scheme_versions_new (
    scheme_id  TEXT NOT NULL REFERENCES schemes (id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    label      TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('draft', 'active', 'paused', 'closed')),
    document   TEXT NOT NULL,
    digest     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (scheme_id, version)
);
INSERT INTO scheme_versions_new (scheme_id, version, label, status, document, digest, created_at)
    SELECT scheme_id, version, label, status, document, digest, created_at FROM scheme_versions;
DROP TABLE scheme_versions;
ALTER TABLE scheme_versions_new RENAME TO scheme_versions;

-- +goose Down
CREATE TABLE scheme_versions_old (
    scheme_id  TEXT NOT NULL REFERENCES schemes (id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    label      TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('draft', 'active', 'closed')),
    document   TEXT NOT NULL,
    digest     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (scheme_id, version)
);
INSERT INTO scheme_versions_old (scheme_id, version, label, status, document, digest, created_at)
    SELECT scheme_id, version, label, CASE status WHEN 'paused' THEN 'active' ELSE status END, document, digest, created_at FROM scheme_versions;
DROP TABLE scheme_versions;
ALTER TABLE scheme_versions_old RENAME TO scheme_versions;
ALTER TABLE framework_items DROP COLUMN deemed_by;
ALTER TABLE framework_items DROP COLUMN unverified;
ALTER TABLE frameworks DROP COLUMN provenance;
