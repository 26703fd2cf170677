-- The table migrations/create-index-options.yaml expects (tandem rehearse uses it when given no --schema).
CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, sku text NOT NULL, price integer, attrs jsonb, created_at timestamptz NOT NULL DEFAULT now());
