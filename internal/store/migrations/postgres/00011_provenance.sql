-- +goose Up
-- The common language as of December 2026: where each framework's facts were
-- checked (sources, unverified facts), which items could not be confirmed and
-- which other framework's items the law deems to meet an item;
-- and a scheme may be paused (no new applications for now) besides draft,
-- active and closed.
ALTER TABLE frameworks ADD COLUMN provenance TEXT NOT NULL DEFAULT '';
ALTER TABLE framework_items ADD COLUMN unverified TEXT NOT NULL DEFAULT '';
ALTER TABLE framework_items ADD COLUMN deemed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE scheme_versions DROP CONSTRAINT scheme_versions_status_check;
ALTER TABLE scheme_versions ADD CONSTRAINT scheme_versions_status_check
    CHECK (status IN ('draft', 'active', 'paused', 'closed'));

-- +goose Down
UPDATE scheme_versions SET status = 'active' WHERE status = 'paused';
ALTER TABLE scheme_versions DROP CONSTRAINT scheme_versions_status_check;
ALTER TABLE scheme_versions ADD CONSTRAINT scheme_versions_status_check
    CHECK (status IN ('draft', 'active', 'closed'));
ALTER TABLE framework_items DROP COLUMN deemed_by;
ALTER TABLE framework_items DROP COLUMN unverified;
ALTER TABLE frameworks DROP COLUMN provenance;
