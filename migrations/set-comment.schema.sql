-- The table migrations/set-comment.yaml expects (tandem rehearse uses it when given no --schema).
CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, sku text NOT NULL, price integer, note text);
COMMENT ON COLUMN items.note IS 'free text, to be retired';
