-- +goose Up
-- The product a mirrored label is for, as the peer's registry names it:
-- what links it to the same product's labels here (GTIN, PURL, or the
-- manufacturer's model number), so a suspension at one authority is
-- visible at the other.
ALTER TABLE mirror_labels ADD COLUMN manufacturer TEXT NOT NULL DEFAULT '';
ALTER TABLE mirror_labels ADD COLUMN model_number TEXT NOT NULL DEFAULT '';
ALTER TABLE mirror_labels ADD COLUMN gtin TEXT NOT NULL DEFAULT '';
ALTER TABLE mirror_labels ADD COLUMN purl TEXT NOT NULL DEFAULT '';
CREATE INDEX mirror_labels_gtin ON mirror_labels (gtin);
CREATE INDEX mirror_labels_purl ON mirror_labels (purl);
CREATE INDEX mirror_labels_model ON mirror_labels (model_number);

-- +goose Down
DROP INDEX mirror_labels_model;
DROP INDEX mirror_labels_purl;
DROP INDEX mirror_labels_gtin;
ALTER TABLE mirror_labels DROP COLUMN purl;
ALTER TABLE mirror_labels DROP COLUMN gtin;
ALTER TABLE mirror_labels DROP COLUMN model_number;
ALTER TABLE mirror_labels DROP COLUMN manufacturer;
