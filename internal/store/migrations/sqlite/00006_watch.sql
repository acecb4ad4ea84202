-- +goose Up
-- The post-market watch. Advisories are kept as read (the advisory model
-- as JSON, with the hash of the document they came from, grouped into
-- flaws: the GO-, GHSA- and CVE- ids of one flaw share its flaw key, the
-- canonical id, so it acts once); findings link a
-- flaw to a product version, with the basis of the match; a finding's
-- remediation clock and the manufacturer's answer live on it.
CREATE TABLE advisories (
    id          TEXT PRIMARY KEY,
    flaw        TEXT NOT NULL,
    format      TEXT NOT NULL,
    doc_id      TEXT NOT NULL,
    revision    TEXT NOT NULL,
    doc_sha256  TEXT NOT NULL,
    withdrawn   TEXT NOT NULL,
    body        TEXT NOT NULL,
    ingested_at TEXT NOT NULL
);
CREATE INDEX advisories_flaw ON advisories (flaw);
CREATE TABLE exploited (
    cve         TEXT PRIMARY KEY,
    date_added  TEXT NOT NULL,
    ransomware  BOOLEAN NOT NULL,
    doc_sha256  TEXT NOT NULL
);
CREATE TABLE vex_statements (
    id            INTEGER PRIMARY KEY,
    vulnerability TEXT NOT NULL,
    version_id    INTEGER NOT NULL REFERENCES product_versions (id),
    component     TEXT NOT NULL,
    status        TEXT NOT NULL,
    justification TEXT NOT NULL,
    doc_sha256    TEXT NOT NULL,
    at            TEXT NOT NULL,
    UNIQUE (vulnerability, version_id, component)
);
CREATE TABLE watch_findings (
    id          INTEGER PRIMARY KEY,
    version_id  INTEGER NOT NULL REFERENCES product_versions (id),
    advisory_id TEXT NOT NULL,
    basis       TEXT NOT NULL,
    confidence  REAL NOT NULL,
    component   TEXT NOT NULL,
    fixed       TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('open', 'review', 'not-affected', 'fixed', 'retracted', 'disputed')),
    response    TEXT NOT NULL,
    clocks      TEXT NOT NULL,
    doc_sha256  TEXT NOT NULL,
    first_seen  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (version_id, advisory_id, component)
);
CREATE INDEX watch_findings_advisory ON watch_findings (advisory_id);
CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES organisations (id),
    finding_id INTEGER NOT NULL REFERENCES watch_findings (id),
    rule_id    TEXT NOT NULL,
    message    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (finding_id, rule_id)
);

-- +goose Down
DROP TABLE notifications;
DROP TABLE watch_findings;
DROP TABLE vex_statements;
DROP TABLE exploited;
DROP TABLE advisories;
