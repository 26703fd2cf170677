import * as fs from 'fs';
import * as path from 'path';
import { parseSpec, MigrationSpec } from '../phases/sql/spec';
import { sql } from './db';

export const SPLIT_SPEC_PATH = path.join(__dirname, '..', 'migrations', 'split-full-name.yaml');

export function splitSpec(): MigrationSpec {
  return parseSpec(fs.readFileSync(SPLIT_SPEC_PATH, 'utf8'), SPLIT_SPEC_PATH);
}

/** The talk's table: customers(id, full_name NOT NULL, email), seeded with `rows` generated names. */
export async function createCustomers(url: string, rows = 0): Promise<void> {
  await sql(
    url,
    `CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, full_name text NOT NULL, email text);
     INSERT INTO customers (full_name, email)
       SELECT 'First' || g || ' Last' || g, 'c' || g || '@example.com' FROM generate_series(1, ${Math.floor(rows)}) g;`,
  );
}
