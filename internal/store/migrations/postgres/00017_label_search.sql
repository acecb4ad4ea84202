-- +goose Up
-- The registry search reads an index, not every label: the text a search
-- matches (label id, product name, model number, manufacturer; one per
-- line, lower-cased) with a trigram index, which answers LIKE '%text%'
-- (pg_trgm: a trusted extension, creatable by the database's owner).
-- Kept by triggers, so every writer keeps it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE label_search (
    label_id TEXT PRIMARY KEY REFERENCES labels (id) ON DELETE CASCADE,
    body     TEXT NOT NULL
);

INSERT INTO label_search (label_id, body)
SELECT l.id, LOWER(l.id || chr(10) || p.name || chr(10) || p.model_number || chr(10) || m.name)
FROM labels l
JOIN product_versions v ON v.id = l.product_version_id
JOIN products p ON p.id = v.product_id
JOIN organisations m ON m.id = p.manufacturer_id;

CREATE INDEX label_search_body ON label_search USING gin (body gin_trgm_ops);

-- +goose StatementBegin
CREATE FUNCTION label_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'labels' THEN
        INSERT INTO label_search (label_id, body)
        SELECT NEW.id, LOWER(NEW.id || chr(10) || p.name || chr(10) || p.model_number || chr(10) || m.name)
        FROM product_versions v
        JOIN products p ON p.id = v.product_id
        JOIN organisations m ON m.id = p.manufacturer_id
        WHERE v.id = NEW.product_version_id;
    ELSE
        UPDATE label_search s SET body = LOWER(l.id || chr(10) || p.name || chr(10) || p.model_number || chr(10) || m.name)
        FROM labels l
        JOIN product_versions v ON v.id = l.product_version_id
        JOIN products p ON p.id = v.product_id
        JOIN organisations m ON m.id = p.manufacturer_id
        WHERE s.label_id = l.id AND (CASE WHEN TG_TABLE_NAME = 'products' THEN p.id ELSE m.id END) = NEW.id;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER label_search_insert AFTER INSERT ON labels FOR EACH ROW EXECUTE FUNCTION label_search_refresh();
CREATE TRIGGER label_search_product AFTER UPDATE OF name, model_number, manufacturer_id ON products FOR EACH ROW EXECUTE FUNCTION label_search_refresh();
CREATE TRIGGER label_search_maker AFTER UPDATE OF name ON organisations FOR EACH ROW EXECUTE FUNCTION label_search_refresh();

-- +goose Down
DROP TRIGGER label_search_maker ON organisations;
DROP TRIGGER label_search_product ON products;
DROP TRIGGER label_search_insert ON labels;
DROP FUNCTION label_search_refresh();
DROP TABLE label_search;
