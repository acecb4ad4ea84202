-- +goose Up
-- The common language: frameworks and their items, Hallmark requirements and
-- their mappings, the glossary. Built-in rows are replaced as a whole when the
-- binary's catalogue changes; imported frameworks are kept.
CREATE TABLE catalog_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE topics (
    id          TEXT PRIMARY KEY,
    position    INTEGER NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL
);

CREATE TABLE frameworks (
    id          TEXT PRIMARY KEY,
    position    INTEGER NOT NULL,
    title       TEXT NOT NULL,
    short       TEXT NOT NULL,
    publisher   TEXT NOT NULL,
    version     TEXT NOT NULL,
    published   TEXT NOT NULL,
    url         TEXT NOT NULL,
    description TEXT NOT NULL,
    source      TEXT NOT NULL CHECK (source IN ('builtin', 'imported'))
);

CREATE TABLE framework_items (
    framework_id TEXT NOT NULL REFERENCES frameworks (id) ON DELETE CASCADE,
    item_id      TEXT NOT NULL,
    position     INTEGER NOT NULL,
    clause       TEXT NOT NULL,
    clause_title TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('', 'mandatory', 'recommended', 'conditional')),
    condition    TEXT NOT NULL,
    title        TEXT NOT NULL,
    gap          TEXT NOT NULL,
    PRIMARY KEY (framework_id, item_id)
);

CREATE TABLE requirements (
    id               TEXT PRIMARY KEY,
    position         INTEGER NOT NULL,
    topic_id         TEXT NOT NULL REFERENCES topics (id),
    title            TEXT NOT NULL,
    summary          TEXT NOT NULL,
    technical        TEXT NOT NULL,
    why              TEXT NOT NULL,
    incident         TEXT NOT NULL,
    verification     TEXT NOT NULL,
    unsecurable      BOOLEAN NOT NULL,
    unsecurable_note TEXT NOT NULL
);

CREATE TABLE mappings (
    requirement_id TEXT NOT NULL REFERENCES requirements (id) ON DELETE CASCADE,
    framework_id   TEXT NOT NULL,
    item_id        TEXT NOT NULL,
    position       INTEGER NOT NULL,
    relationship   TEXT NOT NULL CHECK (relationship IN ('equivalent', 'subset-of', 'superset-of', 'intersects-with')),
    rationale      TEXT NOT NULL,
    PRIMARY KEY (requirement_id, framework_id, item_id),
    FOREIGN KEY (framework_id, item_id) REFERENCES framework_items (framework_id, item_id) ON DELETE CASCADE
);
CREATE INDEX mappings_item ON mappings (framework_id, item_id);

CREATE TABLE glossary (
    term       TEXT PRIMARY KEY,
    position   INTEGER NOT NULL,
    expansion  TEXT NOT NULL,
    definition TEXT NOT NULL,
    see        TEXT NOT NULL
);

-- +goose Down
DROP TABLE glossary;
DROP TABLE mappings;
DROP TABLE requirements;
DROP TABLE framework_items;
DROP TABLE frameworks;
DROP TABLE topics;
DROP TABLE catalog_meta;
