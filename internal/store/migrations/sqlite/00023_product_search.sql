-- +goose Up
-- The product search reads an index, as the label search does (00017):
-- product name, model number and manufacturer, one per line, lower-cased,
-- in an FTS5 table of trigrams keyed by the product's id.
CREATE VIRTUAL TABLE product_search USING fts5(body, tokenize = 'trigram');

INSERT INTO product_search (rowid, body)
SELECT p.id, LOWER(p.name || char(10) || p.model_number || char(10) || m.name)
FROM products p JOIN organisations m ON m.id = p.manufacturer_id;

-- +goose StatementBegin
CREATE TRIGGER product_search_insert AFTER INSERT ON products BEGIN
    INSERT INTO product_search (rowid, body)
    SELECT NEW.id, LOWER(NEW.name || char(10) || NEW.model_number || char(10) || m.name)
    FROM organisations m WHERE m.id = NEW.manufacturer_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER product_search_update AFTER UPDATE OF name, model_number, manufacturer_id ON products BEGIN
    DELETE FROM product_search WHERE rowid = OLD.id;
    INSERT INTO product_search (rowid, body)
    SELECT NEW.id, LOWER(NEW.name || char(10) || NEW.model_number || char(10) || m.name)
    FROM organisations m WHERE m.id = NEW.manufacturer_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER product_search_delete AFTER DELETE ON products BEGIN
    DELETE FROM product_search WHERE rowid = OLD.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER product_search_maker AFTER UPDATE OF name ON organisations BEGIN
    DELETE FROM product_search WHERE rowid IN (SELECT id FROM products WHERE manufacturer_id = NEW.id);
    INSERT INTO product_search (rowid, body)
    SELECT p.id, LOWER(p.name || char(10) || p.model_number || char(10) || NEW.name)
    FROM products p WHERE p.manufacturer_id = NEW.id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER product_search_maker;
DROP TRIGGER product_search_delete;
DROP TRIGGER product_search_update;
DROP TRIGGER product_search_insert;
DROP TABLE product_search;
