-- +goose Up
-- The registry search reads an index, not every label: the text a search
-- matches (label id, product name, model number, manufacturer; one per
-- line, lower-cased) in an FTS5 table of trigrams, which answers
-- LIKE '%text%' from the index. Kept by triggers, so every writer
-- (decisions, the synthetic loader, restores) keeps it.
CREATE VIRTUAL TABLE label_search USING fts5(body, tokenize = 'trigram');

INSERT INTO label_search (rowid, body)
SELECT l.rowid, LOWER(l.id || char(10) || p.name || char(10) || p.model_number || char(10) || m.name)
FROM labels l
JOIN product_versions v ON v.id = l.product_version_id
JOIN products p ON p.id = v.product_id
JOIN organisations m ON m.id = p.manufacturer_id;

-- +goose StatementBegin
CREATE TRIGGER label_search_insert AFTER INSERT ON labels BEGIN
    INSERT INTO label_search (rowid, body)
    SELECT NEW.rowid, LOWER(NEW.id || char(10) || p.name || char(10) || p.model_number || char(10) || m.name)
    FROM product_versions v
    JOIN products p ON p.id = v.product_id
    JOIN organisations m ON m.id = p.manufacturer_id
    WHERE v.id = NEW.product_version_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER label_search_delete AFTER DELETE ON labels BEGIN
    DELETE FROM label_search WHERE rowid = OLD.rowid;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER label_search_product AFTER UPDATE OF name, model_number, manufacturer_id ON products BEGIN
    DELETE FROM label_search WHERE rowid IN
        (SELECT l.rowid FROM labels l JOIN product_versions v ON v.id = l.product_version_id WHERE v.product_id = NEW.id);
    INSERT INTO label_search (rowid, body)
    SELECT l.rowid, LOWER(l.id || char(10) || NEW.name || char(10) || NEW.model_number || char(10) || m.name)
    FROM labels l
    JOIN product_versions v ON v.id = l.product_version_id
    JOIN organisations m ON m.id = NEW.manufacturer_id
    WHERE v.product_id = NEW.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER label_search_maker AFTER UPDATE OF name ON organisations BEGIN
    DELETE FROM label_search WHERE rowid IN
        (SELECT l.rowid FROM labels l JOIN product_versions v ON v.id = l.product_version_id
         JOIN products p ON p.id = v.product_id WHERE p.manufacturer_id = NEW.id);
    INSERT INTO label_search (rowid, body)
    SELECT l.rowid, LOWER(l.id || char(10) || p.name || char(10) || p.model_number || char(10) || NEW.name)
    FROM labels l
    JOIN product_versions v ON v.id = l.product_version_id
    JOIN products p ON p.id = v.product_id
    WHERE p.manufacturer_id = NEW.id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER label_search_maker;
DROP TRIGGER label_search_product;
DROP TRIGGER label_search_delete;
DROP TRIGGER label_search_insert;
DROP TABLE label_search;
