import { backfill, contract, expand, verify } from '../executor';
import { parseSpec } from '../phases/sql/spec';
import { freshDatabase, sql } from './db';

/**
 * "A raising up/down never fails an app write" holds for columns that become NOT NULL: an `up`
 * that raises or gives NULL for such a column flags the row (verify and contract refuse until it
 * is fixed) instead of Tandem's own NOT NULL check, or set_not_null's fill trigger, refusing the
 * old version's INSERT or UPDATE.
 */
const opts = (url: string) => ({ databaseUrl: url, lockTimeoutMs: 2000 });

async function flagged(url: string, table: string): Promise<number[]> {
  return (await sql(url, `SELECT id FROM ${table} WHERE _tandem_pending IS NULL ORDER BY id`)).map((r) => r.id);
}

describe('change_type of a NOT NULL column', () => {
  const spec = (up: string) =>
    parseSpec(`
name: price-numeric
table: prices
operations:
  - change_type:
      column: amount
      type: numeric
      up: "${up}"
      down: amount_new::text
`);

  it.each([
    ['raises', 'amount::numeric'],
    ['gives NULL', "nullif(amount, 'n/a')::numeric"],
  ])(
    'an up that %s on a v1 INSERT or UPDATE flags the row; verify and contract refuse until it is fixed',
    async (_what, up) => {
      const url = await freshDatabase('nn_change');
      await sql(
        url,
        `CREATE TABLE prices (id int PRIMARY KEY, amount text NOT NULL); INSERT INTO prices VALUES (1, '10'), (2, '20')`,
      );
      const s = spec(up);
      await expand(s, opts(url));
      await backfill(s, opts(url));
      // v1 writes: neither may fail because of Tandem.
      await sql(url, `INSERT INTO prices (id, amount) VALUES (3, 'n/a')`);
      await sql(url, `UPDATE prices SET amount = 'n/a' WHERE id = 2`);
      expect(await sql(url, `SELECT id, amount FROM prices ORDER BY id`)).toEqual([
        { id: 1, amount: '10' },
        { id: 2, amount: 'n/a' },
        { id: 3, amount: 'n/a' },
      ]);
      expect(await flagged(url, 'prices')).toEqual([2, 3]);
      const report = await verify(s, opts(url));
      expect(report.ok).toBe(false);
      expect(report.syncFailedRows).toBe(2);
      await expect(contract(s, opts(url))).rejects.toThrow(/contract refused/);
      // The writer fixes the values: the rows sync, and contract sets NOT NULL.
      await sql(url, `UPDATE prices SET amount = '5' WHERE id IN (2, 3)`);
      expect(await flagged(url, 'prices')).toEqual([]);
      expect((await verify(s, opts(url))).ok).toBe(true);
      await contract(s, opts(url));
      expect(
        await sql(
          url,
          `SELECT attnotnull FROM pg_attribute WHERE attrelid = 'prices'::regclass AND attname = 'amount_new'`,
        ),
      ).toEqual([{ attnotnull: true }]);
      expect(
        await sql(url, `SELECT conname FROM pg_constraint WHERE conrelid = 'prices'::regclass AND contype = 'c'`),
      ).toEqual([]);
      expect(await sql(url, `SELECT id, amount_new FROM prices ORDER BY id`)).toEqual([
        { id: 1, amount_new: '10' },
        { id: 2, amount_new: '5' },
        { id: 3, amount_new: '5' },
      ]);
    },
  );
});

describe('set_not_null', () => {
  it.each([
    ['raises', "'user' || (id / (id % 2))::text"],
    ['gives NULL', "CASE WHEN id % 2 = 1 THEN 'user' || id END"],
  ])(
    'an up that %s on a v1 INSERT of NULL (sync and fill trigger) flags the row instead of failing it',
    async (_what, up) => {
      const url = await freshDatabase('nn_set');
      await sql(
        url,
        `CREATE TABLE members (id int PRIMARY KEY, email text); INSERT INTO members VALUES (1, NULL), (3, 'c@x')`,
      );
      const s = parseSpec(`
name: email-required
table: members
operations:
  - set_not_null:
      column: email
      up: "${up}"
`);
      await expand(s, opts(url));
      await backfill(s, opts(url));
      await sql(url, `INSERT INTO members (id, email) VALUES (4, NULL), (5, NULL)`);
      await sql(url, `INSERT INTO members (id) VALUES (6)`);
      expect(await sql(url, `SELECT id, email, email_new FROM members ORDER BY id`)).toEqual([
        { id: 1, email: null, email_new: 'user1' },
        { id: 3, email: 'c@x', email_new: 'c@x' },
        { id: 4, email: null, email_new: null },
        { id: 5, email: null, email_new: 'user5' },
        { id: 6, email: null, email_new: null },
      ]);
      expect(await flagged(url, 'members')).toEqual([4, 6]);
      expect((await verify(s, opts(url))).syncFailedRows).toBe(2);
      await expect(contract(s, opts(url))).rejects.toThrow(/contract refused/);
      await sql(url, `UPDATE members SET email = 'd@x' WHERE id IN (4, 6)`);
      expect(await flagged(url, 'members')).toEqual([]);
      expect((await verify(s, opts(url))).ok).toBe(true);
      await contract(s, opts(url));
      expect(
        await sql(
          url,
          `SELECT attnotnull FROM pg_attribute WHERE attrelid = 'members'::regclass AND attname = 'email_new'`,
        ),
      ).toEqual([{ attnotnull: true }]);
    },
  );
});
