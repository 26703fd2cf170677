-- The table migrations/drop-constraint.yaml expects (tandem rehearse uses it when given no --schema).
CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, sku text NOT NULL, price integer CONSTRAINT items_price_range CHECK (price BETWEEN 1 AND 100000), note text);
