-- +goose Up
-- Accounts, the registry, the assessment workflow and labels. Times are
-- UTC text in one fixed-width format (store.timeFormat), so they sort and
-- compare the same on both engines.
CREATE TABLE organisations (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    kind       TEXT NOT NULL CHECK (kind IN ('authority', 'assessor-lab', 'manufacturer')),
    country    TEXT NOT NULL,
    website    TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE authority_schemes (
    org_id    INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    scheme_id TEXT NOT NULL REFERENCES schemes (id),
    PRIMARY KEY (org_id, scheme_id)
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    org_id        INTEGER NOT NULL REFERENCES organisations (id),
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('authority-admin', 'assessor', 'manufacturer')),
    password_hash TEXT NOT NULL,
    disabled      BOOLEAN NOT NULL,
    created_at    TEXT NOT NULL
);

CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    last_seen  TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    at            TEXT NOT NULL,
    actor_user_id INTEGER,
    actor_org_id  INTEGER,
    action        TEXT NOT NULL,
    object_type   TEXT NOT NULL,
    object_id     TEXT NOT NULL,
    detail        TEXT NOT NULL
);
CREATE INDEX audit_object ON audit_log (object_type, object_id);

CREATE TABLE products (
    id              INTEGER PRIMARY KEY,
    manufacturer_id INTEGER NOT NULL REFERENCES organisations (id),
    name            TEXT NOT NULL,
    brand           TEXT NOT NULL,
    category        TEXT NOT NULL,
    model_number    TEXT NOT NULL,
    gtin            TEXT NOT NULL,
    purl            TEXT NOT NULL,
    cpe             TEXT NOT NULL,
    published       BOOLEAN NOT NULL,
    created_at      TEXT NOT NULL,
    UNIQUE (manufacturer_id, model_number)
);
CREATE INDEX products_category ON products (category);

CREATE TABLE product_versions (
    id               INTEGER PRIMARY KEY,
    product_id       INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    software_version TEXT NOT NULL,
    hardware_version TEXT NOT NULL,
    release_date     TEXT NOT NULL,
    facts            TEXT NOT NULL,
    sbom_format      TEXT NOT NULL,
    sbom_digest      TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    UNIQUE (product_id, software_version)
);

CREATE TABLE components (
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
CREATE INDEX components_purl ON components (purl);
CREATE INDEX components_name ON components (name);

CREATE TABLE applications (
    id                 INTEGER PRIMARY KEY,
    product_version_id INTEGER NOT NULL REFERENCES product_versions (id),
    scheme_id          TEXT NOT NULL REFERENCES schemes (id),
    scheme_version     INTEGER NOT NULL,
    level_id           TEXT NOT NULL,
    state              TEXT NOT NULL CHECK (state IN ('draft', 'submitted', 'in-assessment', 'assessed', 'approved', 'rejected', 'withdrawn')),
    assessor_org_id    INTEGER REFERENCES organisations (id),
    created_by         INTEGER NOT NULL REFERENCES users (id),
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    decision_reason    TEXT NOT NULL
);
CREATE INDEX applications_state ON applications (state);

CREATE TABLE application_events (
    id             INTEGER PRIMARY KEY,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    at             TEXT NOT NULL,
    actor_user_id  INTEGER,
    step           TEXT NOT NULL,
    from_state     TEXT NOT NULL,
    to_state       TEXT NOT NULL,
    note           TEXT NOT NULL
);

CREATE TABLE evidence (
    id             INTEGER PRIMARY KEY,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    uploaded_by    INTEGER NOT NULL REFERENCES users (id),
    name           TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    size           INTEGER NOT NULL,
    sha256         TEXT NOT NULL,
    created_at     TEXT NOT NULL
);

CREATE TABLE findings (
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    requirement_id TEXT NOT NULL,
    verdict        TEXT NOT NULL CHECK (verdict IN ('pass', 'fail', 'not-applicable')),
    rationale      TEXT NOT NULL,
    evidence_ids   TEXT NOT NULL,
    assessor_id    INTEGER NOT NULL REFERENCES users (id),
    recorded_at    TEXT NOT NULL,
    PRIMARY KEY (application_id, requirement_id)
);

-- status_index places the label in the revocation and suspension status
-- lists; the lists themselves are derived from status, never stored.
CREATE TABLE labels (
    id                 TEXT PRIMARY KEY,
    application_id     INTEGER NOT NULL UNIQUE REFERENCES applications (id),
    product_version_id INTEGER NOT NULL REFERENCES product_versions (id),
    scheme_id          TEXT NOT NULL,
    scheme_version     INTEGER NOT NULL,
    level_id           TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'revoked', 'surrendered', 'expired')),
    status_index       INTEGER NOT NULL UNIQUE,
    issued_at          TEXT NOT NULL,
    valid_until        TEXT NOT NULL,
    credential         TEXT NOT NULL,
    credential_hash    TEXT NOT NULL,
    kid                TEXT NOT NULL
);
CREATE INDEX labels_status ON labels (status);
CREATE INDEX labels_version ON labels (product_version_id);

CREATE TABLE label_events (
    id            INTEGER PRIMARY KEY,
    label_id      TEXT NOT NULL REFERENCES labels (id) ON DELETE CASCADE,
    at            TEXT NOT NULL,
    actor_user_id INTEGER,
    action        TEXT NOT NULL,
    from_status   TEXT NOT NULL,
    to_status     TEXT NOT NULL,
    reason        TEXT NOT NULL
);

-- +goose Down
DROP TABLE label_events;
DROP TABLE labels;
DROP TABLE findings;
DROP TABLE evidence;
DROP TABLE application_events;
DROP TABLE applications;
DROP TABLE components;
DROP TABLE product_versions;
DROP TABLE products;
DROP TABLE audit_log;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE authority_schemes;
DROP TABLE organisations;
