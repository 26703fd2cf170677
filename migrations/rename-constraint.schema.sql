-- The table migrations/rename-constraint.yaml expects (tandem rehearse uses it when given no --schema).
CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, sku text NOT NULL CONSTRAINT items_sku_key UNIQUE, price integer, note text);
