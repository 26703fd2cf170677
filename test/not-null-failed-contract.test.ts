import { backfill, contract, expand, verify } from '../executor';
import { parseSpec } from '../phases/sql/spec';
import { freshDatabase, sql } from './db';

/**
 * Contract adds and validates a strict NOT NULL check before its transaction. When that
 * transaction then fails, the old version may still write (or be walked back to): the strict check
 * must not stay behind refusing its writes whose `up` raises, which expand's check lets through
 * (flagged), and "nothing changed" must be true.
 */
const opts = (url: string) => ({ databaseUrl: url, lockTimeoutMs: 2000 });

it('a contract that fails in its transaction takes back the strict NOT NULL check: a v1 write whose up raises is flagged, not refused', async () => {
  const url = await freshDatabase('nn_contract_fail');
  await sql(
    url,
    `CREATE TABLE prices (id int PRIMARY KEY, amount text NOT NULL); INSERT INTO prices VALUES (1, '10'), (2, '20');
     -- A change freeze: contract's own transaction (it drops the sync trigger first) is refused.
     CREATE FUNCTION freeze() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'change freeze: % refused', tg_tag; END $$;
     CREATE EVENT TRIGGER freeze_drop_trigger ON ddl_command_start WHEN TAG IN ('DROP TRIGGER') EXECUTE FUNCTION freeze();`,
  );
  const spec = parseSpec(`
name: price-numeric
table: prices
operations:
  - change_type:
      column: amount
      type: numeric
      up: amount::numeric
      down: amount_new::text
`);
  await expand(spec, opts(url));
  await backfill(spec, opts(url));
  expect((await verify(spec, opts(url))).ok).toBe(true);
  await expect(contract(spec, opts(url))).rejects.toThrow(/nothing changed: change freeze: DROP TRIGGER refused/);
  // The old version still runs: its write whose up raises goes through, flagged, as before contract.
  await sql(url, `INSERT INTO prices (id, amount) VALUES (3, 'n/a')`);
  expect(await sql(url, `SELECT id FROM prices WHERE _tandem_pending IS NULL`)).toEqual([{ id: 3 }]);
  expect(
    await sql(
      url,
      `SELECT conname FROM pg_constraint WHERE conrelid = 'prices'::regclass AND conname LIKE '\\_tandem\\_nv\\_%'`,
    ),
  ).toEqual([]);
});
