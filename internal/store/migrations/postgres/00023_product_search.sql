-- +goose Up
-- The product search reads an index, as the label search does (00017):
-- product name, model number and manufacturer, one per line, lower-cased,
-- with a trigram index.
CREATE TABLE product_search (
    product_id BIGINT PRIMARY KEY REFERENCES products (id) ON DELETE CASCADE,
    body       TEXT NOT NULL
);

INSERT INTO product_search (product_id, body)
SELECT p.id, LOWER(p.name || chr(10) || p.model_number || chr(10) || m.name)
FROM products p JOIN organisations m ON m.id = p.manufacturer_id;

CREATE INDEX product_search_body ON product_search USING gin (body gin_trgm_ops);

-- +goose StatementBegin
CREATE FUNCTION product_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'products' THEN
        INSERT INTO product_search (product_id, body)
        SELECT NEW.id, LOWER(NEW.name || chr(10) || NEW.model_number || chr(10) || m.name)
        FROM organisations m WHERE m.id = NEW.manufacturer_id
        ON CONFLICT (product_id) DO UPDATE SET body = EXCLUDED.body;
    ELSE
        UPDATE product_search s SET body = LOWER(p.name || chr(10) || p.model_number || chr(10) || NEW.name)
        FROM products p WHERE s.product_id = p.id AND p.manufacturer_id = NEW.id;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER product_search_insert AFTER INSERT OR UPDATE OF name, model_number, manufacturer_id ON products
    FOR EACH ROW EXECUTE FUNCTION product_search_refresh();
CREATE TRIGGER product_search_maker AFTER UPDATE OF name ON organisations FOR EACH ROW EXECUTE FUNCTION product_search_refresh();

-- +goose Down
DROP TRIGGER product_search_maker ON organisations;
DROP TRIGGER product_search_insert ON products;
DROP FUNCTION product_search_refresh();
DROP TABLE product_search;
