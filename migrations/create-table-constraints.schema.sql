-- The table migrations/create-table-constraints.yaml expects (tandem rehearse uses it when given no --schema).
CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, sku text NOT NULL, price integer, note text);
