import { backfill, expand, validateLive, verify } from '../executor';
import { parseSpec } from '../phases/sql/spec';
import { freshDatabase, sql } from './db';

/**
 * A replaced column keeps a nondeterministic (case-insensitive) collation. Under it 'alice' and
 * 'ALICE' are equal; Tandem's own comparisons (verify, the trigger's "did the writer change it")
 * must still tell them apart, or a value that differs only in case is taken as unchanged.
 */
const opts = (url: string) => ({ databaseUrl: url, lockTimeoutMs: 2000 });
const SPEC = `
name: rename-username
table: users
operations:
  - rename_column:
      from: username
      to: login
`;

async function setup(prefix: string): Promise<string> {
  const url = await freshDatabase(prefix);
  await sql(
    url,
    `CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
     CREATE TABLE users (id int PRIMARY KEY, username text COLLATE ci NOT NULL);
     INSERT INTO users VALUES (1, 'alice'), (2, 'bob')`,
  );
  const spec = parseSpec(SPEC);
  await validateLive(spec, opts(url));
  await expand(spec, opts(url));
  await backfill(spec, opts(url));
  return url;
}

describe('a case-insensitive column Tandem replaces', () => {
  it('verify reports a row whose two sides differ only in case', async () => {
    const url = await setup('ci_verify');
    // A write the trigger did not see (a session that set tandem.backfill, a replica-role apply): the sides drift by case.
    await sql(url, `SET tandem.backfill = 'on'; UPDATE users SET username = 'ALICE' WHERE id = 1`);
    const report = await verify(parseSpec(SPEC), opts(url));
    expect(report.ok).toBe(false);
  });

  it('an update that writes both sides keeps the new side as written, even when it differs only in case', async () => {
    const url = await setup('ci_both');
    await sql(url, `UPDATE users SET login = 'ALICE', username = 'alice' WHERE id = 1`);
    expect(await sql(url, `SELECT username, login FROM users WHERE id = 1`)).toEqual([
      { username: 'alice', login: 'ALICE' },
    ]);
  });
});
