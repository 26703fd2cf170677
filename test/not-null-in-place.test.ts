import { backfill, contract, expand, rollback, verify } from '../executor';
import { parseSpec } from '../phases/sql/spec';
import { freshDatabase, withClient } from './db';

/**
 * set_not_null without `up` lands on the column's own name: nothing is enforced while the old
 * versions run (their NULL writes succeed), verify names the rows holding NULL, contract refuses
 * until they are fixed, then sets NOT NULL on the same column. No new column, no sync machinery.
 */
const opts = (url: string) => ({ databaseUrl: url, lockTimeoutMs: 2000 });
const SPEC = `name: note-not-null
table: items
operations:
  - set_not_null: { column: note }
`;

describe('set_not_null in place (no up)', () => {
  it('ends with NOT NULL on the same column; old versions write NULL until contract, which refuses until the rows are fixed', async () => {
    const url = await freshDatabase('nnp');
    await withClient(url, (c) =>
      c.query(`CREATE TABLE items (id int PRIMARY KEY, note text); INSERT INTO items VALUES (1, 'a'), (2, 'b')`),
    );
    const spec = parseSpec(SPEC);
    await expand(spec, opts(url));
    await withClient(url, async (c) => {
      // An old version's NULL goes through; nothing of Tandem's is on the table.
      await c.query(`INSERT INTO items VALUES (3, NULL)`);
      expect(
        (
          await c.query(
            `SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = 'items'::regclass AND attnum > 0 AND (attisdropped OR attname LIKE '\\_tandem%')`,
          )
        ).rows[0].n,
      ).toBe(0);
      expect(
        (
          await c.query(
            `SELECT count(*)::int AS n FROM pg_trigger WHERE tgrelid = 'items'::regclass AND NOT tgisinternal`,
          )
        ).rows[0].n,
      ).toBe(0);
    });
    await backfill(spec, opts(url));
    const v = await verify(spec, opts(url));
    expect(v.ok).toBe(false);
    expect(v.operations.find((o) => /holding NULL/.test(o.operation))?.sampleKeys).toEqual(['3']);
    await expect(contract(spec, opts(url))).rejects.toThrow(/NULL/);
    await withClient(url, (c) => c.query(`UPDATE items SET note = 'c' WHERE id = 3`));
    expect((await contract(spec, opts(url))).step).toBe('contracted');
    await withClient(url, async (c) => {
      expect(
        (
          await c.query(
            `SELECT attname, attnotnull FROM pg_attribute WHERE attrelid = 'items'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
          )
        ).rows,
      ).toEqual([
        { attname: 'id', attnotnull: true },
        { attname: 'note', attnotnull: true },
      ]);
      expect(
        (
          await c.query(
            `SELECT count(*)::int AS n FROM pg_constraint WHERE conrelid = 'items'::regclass AND contype = 'c'`,
          )
        ).rows[0].n,
      ).toBe(0);
      await expect(c.query(`INSERT INTO items VALUES (4, NULL)`)).rejects.toThrow(/not-null/);
    });
  });

  it('rollback leaves the table as it was', async () => {
    const url = await freshDatabase('nnp');
    await withClient(url, (c) =>
      c.query(`CREATE TABLE items (id int PRIMARY KEY, note text); INSERT INTO items VALUES (1, NULL)`),
    );
    const spec = parseSpec(SPEC);
    await expand(spec, opts(url));
    await rollback(spec, opts(url));
    await withClient(url, async (c) => {
      expect(
        (await c.query(`SELECT attnotnull FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname = 'note'`))
          .rows[0].attnotnull,
      ).toBe(false);
      expect(
        (
          await c.query(
            `SELECT count(*)::int AS n FROM pg_constraint WHERE conrelid = 'items'::regclass AND contype = 'c'`,
          )
        ).rows[0].n,
      ).toBe(0);
    });
  });
});
