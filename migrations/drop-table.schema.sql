-- The tables migrations/drop-table.yaml expects (tandem rehearse uses them when given no --schema).
CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, sku text NOT NULL, price integer, note text);
CREATE TABLE item_notes_legacy (id integer PRIMARY KEY, body text);
INSERT INTO item_notes_legacy VALUES (1, 'old');
