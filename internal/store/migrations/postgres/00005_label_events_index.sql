-- +goose Up
-- A label page and the status API read events by label.
CREATE INDEX label_events_label ON label_events (label_id, id);

-- +goose Down
DROP INDEX label_events_label;
