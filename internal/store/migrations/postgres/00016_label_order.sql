-- +goose Up
-- The registry lists labels newest first and pages by (issued_at, id):
-- this index serves both, so a page deep in the registry costs what the
-- first does.
CREATE INDEX labels_issued ON labels (issued_at DESC, id);

-- +goose Down
DROP INDEX labels_issued;
