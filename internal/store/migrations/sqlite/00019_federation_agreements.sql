-- +goose Up
-- Mutual-recognition agreements between federated authorities, as this
-- instance recorded them (the document whose SHA-256 is logged), and the
-- drift found since: flag is the changes as JSON ('' while the agreement
-- holds as recorded), flagged_at when they were first found.
CREATE TABLE federation_agreements (
    id          TEXT PRIMARY KEY,
    document    TEXT NOT NULL,
    digest      TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    checked_at  TEXT NOT NULL,
    flag        TEXT NOT NULL,
    flagged_at  TEXT NOT NULL
);

-- +goose Down
DROP TABLE federation_agreements;
