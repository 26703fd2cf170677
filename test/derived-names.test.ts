import { backfill, contract, expand, verify } from '../executor';
import { fitIdentifier } from '../phases/sql/identifiers';
import { MAX_SPEC_NAME, parseSpec } from '../phases/sql/spec';
import { freshDatabase, sql } from './db';

/**
 * Names Tandem derives (triggers, functions, constraints) are never left to PostgreSQL's silent
 * truncation at 63 bytes: the longest spec name goes through expand and contract, every object
 * Tandem creates has exactly the name Tandem computes, and expand warns about none of its own.
 */
const opts = (url: string) => ({ databaseUrl: url, lockTimeoutMs: 2000 });

describe('fitIdentifier', () => {
  it.each([
    ['short', 'short'],
    ['x'.repeat(63), 'x'.repeat(63)],
  ])('keeps %s as is', (name, expected) => expect(fitIdentifier(name)).toBe(expected));

  it('fits a long name in 63 bytes, deterministically, and keeps two names with one prefix apart', () => {
    const a = fitIdentifier(`zzz_tandem_fill_${'a'.repeat(40)}_0123456789`);
    const b = fitIdentifier(`zzz_tandem_fill_${'a'.repeat(40)}_9876543210`);
    expect(Buffer.byteLength(a)).toBe(63);
    expect(a).toBe(fitIdentifier(`zzz_tandem_fill_${'a'.repeat(40)}_0123456789`));
    expect(a).not.toBe(b);
    expect(Buffer.byteLength(fitIdentifier('é'.repeat(40)))).toBeLessThanOrEqual(63);
  });
});

describe('fitIdentifier on names with characters outside the BMP', () => {
  it('cuts between characters, never inside one: PostgreSQL stores exactly the name computed', async () => {
    // 17 ASCII bytes then 4-byte characters: the cut at 52 bytes falls inside the ninth.
    const name = fitIdentifier(`_tandem_trial_abc${'😀'.repeat(12)}`);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
    const url = await freshDatabase('fit_astral');
    await sql(url, `CREATE TABLE t (a int); CREATE INDEX "${name}" ON t (a)`);
    expect(
      await sql(url, `SELECT relname FROM pg_class WHERE relkind = 'i' AND relnamespace = 'public'::regnamespace`),
    ).toEqual([{ relname: name }]);
  });
});

describe('the longest spec name', () => {
  it("expands and contracts with every derived name within 63 bytes, as computed, and no warning about Tandem's own triggers", async () => {
    const url = await freshDatabase('names');
    await sql(
      url,
      `CREATE TABLE accounts (id int PRIMARY KEY, email text, score int NOT NULL); INSERT INTO accounts VALUES (1, NULL, 5), (2, 'b@x', 6)`,
    );
    const name = 'a'.repeat(MAX_SPEC_NAME - 4) + '-b-c';
    expect(name.length).toBe(MAX_SPEC_NAME);
    const spec = parseSpec(`
name: ${name}
table: accounts
operations:
  - set_not_null:
      column: email
      up: "'unknown'"
  - change_type:
      column: score
      type: bigint
      up: score::bigint
      down: score_new::int
`);
    const expanded = await expand(spec, opts(url));
    expect(expanded.warnings).toBeUndefined();
    const triggers = await sql(
      url,
      `SELECT tgname FROM pg_trigger WHERE tgrelid = 'accounts'::regclass AND NOT tgisinternal`,
    );
    const constraints = await sql(
      url,
      `SELECT conname FROM pg_constraint WHERE conrelid = 'accounts'::regclass AND contype = 'c'`,
    );
    const functions = await sql(url, `SELECT proname FROM pg_proc WHERE pronamespace = 'tandem'::regnamespace`);
    const fill = triggers.map((t) => t.tgname).find((n: string) => n.startsWith('zzz_tandem_fill_'));
    expect(fill).toBeDefined();
    // The fill trigger's full name would be 67 bytes: the server would have cut it to exactly 63 of them.
    expect(fill).not.toBe(`zzz_tandem_fill_${name.replace(/-/g, '_')}_`.slice(0, 63));
    for (const n of [
      ...triggers.map((t) => t.tgname),
      ...constraints.map((c) => c.conname),
      ...functions.map((f) => f.proname),
    ]) {
      expect(Buffer.byteLength(n)).toBeLessThanOrEqual(63);
      expect(fitIdentifier(n)).toBe(n);
    }
    await sql(url, `INSERT INTO accounts (id, email, score) VALUES (3, NULL, 7)`);
    await backfill(spec, opts(url));
    expect((await verify(spec, opts(url))).ok).toBe(true);
    await contract(spec, opts(url));
    expect(
      await sql(url, `SELECT tgname FROM pg_trigger WHERE tgrelid = 'accounts'::regclass AND NOT tgisinternal`),
    ).toEqual([]);
    expect(
      await sql(
        url,
        `SELECT proname FROM pg_proc WHERE pronamespace = 'tandem'::regnamespace AND proname <> 'record_actor'`,
      ),
    ).toEqual([]);
    expect(await sql(url, `SELECT id, email_new, score_new FROM accounts ORDER BY id`)).toEqual([
      { id: 1, email_new: 'unknown', score_new: '5' },
      { id: 2, email_new: 'b@x', score_new: '6' },
      { id: 3, email_new: 'unknown', score_new: '7' },
    ]);
  });
});
