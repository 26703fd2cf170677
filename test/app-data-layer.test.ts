import { Pool } from 'pg';
import { TALK_CUSTOMERS, NEW_CUSTOMER } from '../app/seed-data';
import { joinName, splitName } from '../app/split-name';
import { createStore } from '../app/versions';
import { customersTableSql } from '../rehearsal/demo-database';
import { freshDatabase, sql } from './db';

describe('splitName (how v2 and v3 split a typed name)', () => {
  it.each([
    ['John Vin', 'John', 'Vin'],
    ['Winston Leonard Spencer Churchill', 'Winston', 'Leonard Spencer Churchill'],
    ['Mary  Shelley', 'Mary', 'Shelley'],
    ['Twiggy ', 'Twiggy', null],
    ['Adele', 'Adele', null],
    ['  J. K. Rowling ', 'J.', 'K. Rowling'],
  ])('%j -> first %j, last %j', (name, first, last) => {
    expect(splitName(name)).toEqual({ first, last });
  });

  it.each([
    ['John', 'Vin', 'John Vin'],
    ['Adele', null, 'Adele'],
    ['', 'Vin', ' Vin'],
  ])('joinName(%j, %j) is %j, like concat_ws', (first, last, joined) => {
    expect(joinName(first, last)).toBe(joined);
  });
});

describe('the demo app data layer, each version on the schema it expects', () => {
  let url: string;
  let pool: Pool;

  beforeAll(async () => {
    url = await freshDatabase('app');
    pool = new Pool({ connectionString: url, max: 2 });
  });
  afterAll(async () => {
    await pool.end();
  });
  beforeEach(async () => {
    await sql(url, `DROP TABLE IF EXISTS customers; ${customersTableSql()}`);
  });

  it('v1 writes full_name and reads every talk name back byte for byte', async () => {
    const v1 = createStore('v1', pool);
    const created = [];
    for (const name of TALK_CUSTOMERS) created.push(await v1.create(name));
    const rows = await sql(url, 'SELECT full_name FROM customers ORDER BY id');
    expect(rows.map((r) => r.full_name)).toEqual([...TALK_CUSTOMERS]);
    expect((await v1.list()).map((c) => c.name)).toEqual([...TALK_CUSTOMERS]);
    const shelley = created[TALK_CUSTOMERS.indexOf('Mary  Shelley')];
    expect(await v1.get(shelley.id)).toEqual({ id: shelley.id, name: 'Mary  Shelley', columns: { full_name: 'Mary  Shelley' } });
    const renamed = await v1.rename(shelley.id, 'Mary Wollstonecraft Shelley');
    expect(renamed?.columns).toEqual({ full_name: 'Mary Wollstonecraft Shelley' });
    expect(await v1.rename('999999', 'Nobody')).toBeUndefined();
    expect(await v1.get('999999')).toBeUndefined();
  });

  it('v2 reads first_name/last_name and writes all three, full_name as down would compute it', async () => {
    await sql(url, 'ALTER TABLE customers ADD COLUMN first_name text, ADD COLUMN last_name text');
    const v2 = createStore('v2', pool);
    const vin = await v2.create(NEW_CUSTOMER);
    expect(vin.columns).toEqual({ first_name: 'John', last_name: 'Vin' });
    expect(vin.name).toBe('John Vin');
    const [row] = await sql(url, 'SELECT full_name, first_name, last_name, concat_ws($2, first_name, last_name) AS down FROM customers WHERE id = $1', [vin.id, ' ']);
    expect(row).toEqual({ full_name: 'John Vin', first_name: 'John', last_name: 'Vin', down: 'John Vin' });
    const adele = await v2.rename(vin.id, 'Adele');
    expect(adele?.columns).toEqual({ first_name: 'Adele', last_name: null });
    const [after] = await sql(url, 'SELECT full_name FROM customers WHERE id = $1', [vin.id]);
    expect(after.full_name).toBe('Adele');
    expect(await v2.get(vin.id)).toEqual({ id: vin.id, name: 'Adele', columns: { first_name: 'Adele', last_name: null } });
  });

  it('v3 reads and writes first_name/last_name only, and runs once full_name is gone', async () => {
    await sql(url, 'ALTER TABLE customers ADD COLUMN first_name text, ADD COLUMN last_name text, DROP COLUMN full_name');
    const v3 = createStore('v3', pool);
    const vin = await v3.create(NEW_CUSTOMER);
    expect(v3.columnsFor(NEW_CUSTOMER)).toEqual({ first_name: 'John', last_name: 'Vin' });
    expect(await v3.rename(vin.id, 'Jon  Vinn')).toEqual({ id: vin.id, name: 'Jon Vinn', columns: { first_name: 'Jon', last_name: 'Vinn' } });
    expect((await v3.list()).map((c) => c.name)).toEqual(['Jon Vinn']);
  });

  it('v1 fails on the contracted table: the reason the old column must outlive v1', async () => {
    await sql(url, 'ALTER TABLE customers ADD COLUMN first_name text, ADD COLUMN last_name text, DROP COLUMN full_name');
    await expect(createStore('v1', pool).create('Ada Lovelace')).rejects.toThrow(/full_name/);
  });
});
