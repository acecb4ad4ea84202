-- +goose Up
-- Uploads (issue 10). Every SBOM and evidence file an organisation sends
-- is a row here: the ledger its daily quotas are counted from and, for an
-- SBOM, the set its components are stored under. A large SBOM is written
-- in chunks, each its own short transaction, under an upload no version
-- names yet (state 'staging'); one small transaction then points the
-- version at it ('stored'). Readers see a version's whole SBOM, old or new,
-- and no write holds the database for long. The components of an upload
-- no version names any more (replaced, or left staging by a crash) are
-- deleted chunk by chunk afterwards ('purged'; the row stays, for quotas).
CREATE TABLE uploads (
    id         INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES organisations (id),
    kind       TEXT NOT NULL CHECK (kind IN ('sbom', 'evidence')),
    bytes      INTEGER NOT NULL,
    items      INTEGER NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('staging', 'stored', 'purged')),
    created_at TEXT NOT NULL
);
CREATE INDEX uploads_org ON uploads (org_id, created_at);
CREATE INDEX uploads_state ON uploads (state);

ALTER TABLE product_versions ADD COLUMN sbom_upload_id INTEGER REFERENCES uploads (id);

-- Each SBOM stored so far becomes an upload with its version's id (the
-- table is new, so the ids are free), made by the version's manufacturer.
INSERT INTO uploads (id, org_id, kind, bytes, items, state, created_at)
SELECT v.id, p.manufacturer_id, 'sbom', 0, (SELECT COUNT(*) FROM components c WHERE c.version_id = v.id), 'stored', v.created_at
FROM product_versions v JOIN products p ON p.id = v.product_id
WHERE v.sbom_digest <> '' OR EXISTS (SELECT 1 FROM components c WHERE c.version_id = v.id);
UPDATE product_versions SET sbom_upload_id = id WHERE id IN (SELECT id FROM uploads);
CREATE INDEX product_versions_sbom ON product_versions (sbom_upload_id);

CREATE TABLE upload_components (
    upload_id  INTEGER NOT NULL REFERENCES uploads (id),
    position   INTEGER NOT NULL,
    name       TEXT NOT NULL,
    version    TEXT NOT NULL,
    purl       TEXT NOT NULL,
    cpe        TEXT NOT NULL,
    ecosystem  TEXT NOT NULL,
    type       TEXT NOT NULL,
    supplier   TEXT NOT NULL,
    PRIMARY KEY (upload_id, position)
);
INSERT INTO upload_components (upload_id, position, name, version, purl, cpe, ecosystem, type, supplier)
SELECT version_id, position, name, version, purl, cpe, ecosystem, type, supplier FROM components;
DROP TABLE components;
ALTER TABLE upload_components RENAME TO components;
CREATE INDEX components_purl ON components (purl);
CREATE INDEX components_name ON components (name);

-- +goose Down
CREATE TABLE version_components (
    version_id INTEGER NOT NULL REFERENCES product_versions (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    name       TEXT NOT NULL,
    version    TEXT NOT NULL,
    purl       TEXT NOT NULL,
    cpe        TEXT NOT NULL,
    ecosystem  TEXT NOT NULL,
    type       TEXT NOT NULL,
    supplier   TEXT NOT NULL,
    PRIMARY KEY (version_id, position)
);
INSERT INTO version_components (version_id, position, name, version, purl, cpe, ecosystem, type, supplier)
SELECT v.id, c.position, c.name, c.version, c.purl, c.cpe, c.ecosystem, c.type, c.supplier
FROM components c JOIN product_versions v ON v.sbom_upload_id = c.upload_id;
DROP TABLE components;
ALTER TABLE version_components RENAME TO components;
CREATE INDEX components_purl ON components (purl);
CREATE INDEX components_name ON components (name);
DROP INDEX product_versions_sbom;
ALTER TABLE product_versions DROP COLUMN sbom_upload_id;
DROP TABLE uploads;
