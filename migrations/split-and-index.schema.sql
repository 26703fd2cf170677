-- The tables migrations/split-and-index.yaml expects (tandem rehearse uses them when given no --schema).
-- Country codes are an enum: every value a customer can hold is a row of countries.
CREATE TYPE country_code AS ENUM ('GB', 'US', 'FR', 'DE');
CREATE TABLE countries (code country_code PRIMARY KEY);
INSERT INTO countries VALUES ('GB'), ('US'), ('FR'), ('DE');
CREATE TABLE customers (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  full_name text NOT NULL,
  country country_code
);
CREATE INDEX customers_full_name_idx ON customers (full_name);
