-- The tables migrations/add-foreign-key.yaml expects (tandem rehearse uses them when given no --schema).
CREATE TABLE categories (id integer PRIMARY KEY, name text NOT NULL);
INSERT INTO categories VALUES (1, 'tools'), (2, 'toys'), (3, 'books');
CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, sku text NOT NULL, category_id integer CHECK (category_id IN (1, 2, 3)), note text);
