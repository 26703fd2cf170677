import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Client } from 'pg';
import { expand } from '../executor';
import { ERROR_KINDS } from '../phases/errors';
import { freshDatabase, sql } from './db';
import { runCli } from './cli-run';
import { createCustomers, splitSpec, SPLIT_SPEC_PATH } from './fixtures';

/**
 * The operator's contract, command by command: under --json every outcome, success or failure, is
 * one object of one shape on stdout ({ ...result, ok, exit_code, error?: { kind, message, ... },
 * warnings }), with the kind of what happened and the process's own exit code.
 */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-json-contract-'));
const MISSING = path.join(dir, 'missing.yaml');
const NO_SUCH_TABLE = path.join(dir, 'no-such-table.yaml');
fs.writeFileSync(
  NO_SUCH_TABLE,
  fs.readFileSync(SPLIT_SPEC_PATH, 'utf8').replace('table: customers', 'table: no_such_table'),
);
const UNREACHABLE = 'postgres://nobody@127.0.0.1:1/none';
/** The next migration on customers, while split-full-name is in progress on the 'expanded' database. */
const NEXT = path.join(dir, 'rename-last-name.yaml');
fs.writeFileSync(
  NEXT,
  'name: rename-last-name\ntable: customers\noperations:\n  - rename_column: { from: last_name, to: surname }\n',
);
const NO_PULUMI = { PATH: '/nonexistent-bin', PULUMI_CONFIG_PASSPHRASE: '' };

/** fresh: customers; expanded: split-full-name expanded; published: customers in a FOR ALL TABLES publication; forged: expanded, its history not Tandem's. */
type Db = 'fresh' | 'expanded' | 'published' | 'forged' | 'none';
interface Case {
  readonly argv: string[];
  readonly db: Db;
  readonly exit: number;
  readonly kind?: (typeof ERROR_KINDS)[number];
  readonly env?: NodeJS.ProcessEnv;
  /** The sentence, where the case is about the words. */
  readonly message?: RegExp;
}

const S = SPLIT_SPEC_PATH;
const CASES: Case[] = [
  { argv: ['nosuch'], db: 'none', exit: 2, kind: 'usage' },
  // validate
  { argv: ['validate', S], db: 'fresh', exit: 0 },
  { argv: ['validate', MISSING], db: 'fresh', exit: 2, kind: 'spec' },
  { argv: ['validate', NO_SUCH_TABLE], db: 'fresh', exit: 2, kind: 'catalog' },
  { argv: ['validate', S, '--database-url', UNREACHABLE], db: 'none', exit: 1, kind: 'connection' },
  { argv: ['validate', S], db: 'published', exit: 1, kind: 'replication' },
  // sql
  { argv: ['sql', S, '--step', 'expand'], db: 'fresh', exit: 0 },
  { argv: ['sql', S], db: 'fresh', exit: 2, kind: 'usage' },
  {
    argv: ['sql', S, '--step', 'expand', '--database-url='],
    db: 'fresh',
    exit: 2,
    kind: 'usage',
    message: /^--database-url is empty; /,
  },
  { argv: ['sql', S, '--step', 'expand'], db: 'published', exit: 1, kind: 'replication' },
  { argv: ['sql', NEXT, '--step', 'expand'], db: 'expanded', exit: 0 },
  // expand
  { argv: ['expand', S, '--lock-timeout', '0'], db: 'fresh', exit: 2, kind: 'usage' },
  { argv: ['expand', S, '--no-such-flag'], db: 'fresh', exit: 2, kind: 'usage' },
  { argv: ['expand', NO_SUCH_TABLE], db: 'fresh', exit: 2, kind: 'catalog' },
  { argv: ['expand', S], db: 'published', exit: 1, kind: 'replication' },
  { argv: ['expand', NEXT], db: 'expanded', exit: 1, kind: 'migration_in_progress' },
  // backfill
  { argv: ['backfill', S], db: 'fresh', exit: 1, kind: 'refused' },
  {
    argv: ['backfill', S, '--chunk-time', '-5'],
    db: 'expanded',
    exit: 2,
    kind: 'usage',
    message: /^option --chunk-time must be a positive whole number \(MS\), not "-5"$/,
  },
  // verify
  { argv: ['verify', S], db: 'expanded', exit: 1, kind: 'verify_failed' },
  { argv: ['verify', S, '--for-app', 'v9'], db: 'expanded', exit: 2, kind: 'usage' },
  // contract
  { argv: ['contract', S], db: 'fresh', exit: 1, kind: 'refused' },
  { argv: ['contract', S], db: 'expanded', exit: 1, kind: 'refused' },
  // rollback
  { argv: ['rollback', S, '--database-url', UNREACHABLE], db: 'none', exit: 1, kind: 'connection' },
  { argv: ['rollback', S, '--hold-timeout', '-1'], db: 'expanded', exit: 2, kind: 'usage' },
  { argv: ['rollback', NEXT], db: 'expanded', exit: 1, kind: 'migration_in_progress' },
  // repair
  {
    argv: ['repair', S, '--keys', '[[1'],
    db: 'expanded',
    exit: 2,
    kind: 'usage',
    message: /^--keys starts with "\[" but is not valid JSON/,
  },
  {
    argv: ['repair', S, '--keys', 'abc'],
    db: 'expanded',
    exit: 2,
    kind: 'usage',
    message: /^--keys: "abc" is not a value of the primary key column id \(bigint\)$/,
  },
  {
    argv: ['repair', S, '--keys', '1,99999999999999999999'],
    db: 'expanded',
    exit: 2,
    kind: 'usage',
    message: /^--keys: "99999999999999999999" is not a value of the primary key column id \(bigint\)$/,
  },
  { argv: ['repair', S, '--keys', '1,2'], db: 'expanded', exit: 0 },
  { argv: ['repair', S], db: 'fresh', exit: 1, kind: 'refused' },
  // status, with and without a spec
  { argv: ['status', S], db: 'expanded', exit: 0 },
  { argv: ['status'], db: 'expanded', exit: 0 },
  { argv: ['status', '--database-url', UNREACHABLE], db: 'none', exit: 1, kind: 'connection' },
  { argv: ['status', S, S], db: 'expanded', exit: 2, kind: 'usage' },
  { argv: ['status', S, '--database-url', UNREACHABLE], db: 'none', exit: 1, kind: 'connection' },
  // history
  { argv: ['history'], db: 'expanded', exit: 0 },
  { argv: ['history', S], db: 'expanded', exit: 0 },
  { argv: ['history', MISSING], db: 'expanded', exit: 2, kind: 'spec' },
  { argv: ['history', '--database-url', UNREACHABLE], db: 'none', exit: 1, kind: 'connection' },
  { argv: ['history', S, S], db: 'expanded', exit: 2, kind: 'usage' },
  { argv: ['history', '--step', 'expand'], db: 'expanded', exit: 2, kind: 'usage' },
  {
    argv: ['history'],
    db: 'forged',
    exit: 1,
    kind: 'refused',
    message: /history entry for split-full-name that is not Tandem's/,
  },
  { argv: ['history', S], db: 'forged', exit: 1, kind: 'refused' },
  // check-roles
  { argv: ['check-roles', S, '--app-role', 'no_such_role'], db: 'fresh', exit: 1, kind: 'role_check' },
  { argv: ['check-roles', S], db: 'fresh', exit: 2, kind: 'usage' },
  // plan and walk drive the pulumi CLI
  { argv: ['plan', '--stack', 'dev', '--to', 'expand'], db: 'none', exit: 1, kind: 'pulumi_missing', env: NO_PULUMI },
  { argv: ['plan', '--stack', 'dev', '--to', 'finished'], db: 'none', exit: 2, kind: 'usage', env: NO_PULUMI },
  {
    argv: ['walk', '--stack', 'dev', '--to', 'expand', '--yes'],
    db: 'none',
    exit: 1,
    kind: 'pulumi_missing',
    env: NO_PULUMI,
  },
  {
    argv: ['walk', '--stack', 'dev', '--to', 'expand', '--yes', '--wait', 'soon'],
    db: 'none',
    exit: 2,
    kind: 'usage',
    env: NO_PULUMI,
  },
  // rehearse
  { argv: ['rehearse', MISSING], db: 'none', exit: 2, kind: 'spec' },
  { argv: ['rehearse', S, '--rows', 'many'], db: 'none', exit: 2, kind: 'usage' },
  { argv: ['rehearse', S, '--database-url', 'FRESH'], db: 'none', exit: 1, kind: 'refused' },
];

/** Checks the one shape; returns the object. */
function outcomeOf(stdout: string): any {
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]);
}

describe('--json: every command, every outcome, one shape', () => {
  const urls: Partial<Record<Db, string>> = {};
  beforeAll(async () => {
    urls.fresh = await freshDatabase('jsonc_fresh');
    await createCustomers(urls.fresh, 20);
    urls.expanded = await freshDatabase('jsonc_exp');
    await createCustomers(urls.expanded, 20);
    await expand(splitSpec(), { databaseUrl: urls.expanded });
    urls.published = await freshDatabase('jsonc_pub');
    await createCustomers(urls.published, 20);
    await sql(urls.published, `CREATE PUBLICATION everything FOR ALL TABLES`);
    urls.forged = await freshDatabase('jsonc_forged');
    await createCustomers(urls.forged, 20);
    await expand(splitSpec(), { databaseUrl: urls.forged });
    await sql(urls.forged, `UPDATE tandem.migrations SET history = '[{"step": "expanded", "at": "yesterday"}]'::jsonb`);
  });

  it.each(CASES.map((c) => [`${c.argv.join(' ').split(dir).join('$DIR')} (db: ${c.db})`, c] as const))(
    '%s',
    async (_label, c) => {
      const env = { ...(c.env ?? {}), ...(c.db !== 'none' ? { DATABASE_URL: urls[c.db] } : {}) };
      const argv = c.argv.map((a) => (a === 'FRESH' ? urls.fresh! : a)); // a database that is not empty
      const r = await runCli([...argv, '--json'], env);
      const outcome = outcomeOf(r.stdout);
      expect({ code: r.code, exit_code: outcome.exit_code, ok: outcome.ok, kind: outcome.error?.kind }).toEqual({
        code: c.exit,
        exit_code: c.exit,
        ok: c.exit === 0,
        kind: c.kind,
      });
      expect(Array.isArray(outcome.warnings)).toBe(true);
      if (c.exit === 0) {
        expect(outcome).not.toHaveProperty('error');
      } else {
        expect(typeof outcome.error.message).toBe('string');
        expect(outcome.error.message).not.toBe('');
        // the sentence on stderr is the message
        expect(r.stderr).toContain(outcome.error.message);
        if (c.message) expect(outcome.error.message).toMatch(c.message);
      }
      expect(JSON.stringify(outcome)).not.toMatch(/"(file|line|routine)":/);
    },
  );
});

describe('--json: a backfill stopped by --critical-load is backfill_stopped, not internal', () => {
  it('names the stop, keeps the checkpoint, exit 1', async () => {
    const url = await freshDatabase('jsonc_crit');
    await createCustomers(url, 50);
    await expand(splitSpec(), { databaseUrl: url });
    const busy = await Promise.all(
      [0, 1, 2].map(async () => {
        const c = new Client({ connectionString: url });
        await c.connect();
        return c;
      }),
    );
    const sleeping = busy.map((c) => c.query('SELECT pg_sleep(30)').catch(() => undefined));
    try {
      await sql(url, `SELECT 1`); // the sleepers are active by now (each query is sent before this one)
      const r = await runCli(['backfill', S, '--critical-load', '1', '--json'], { DATABASE_URL: url });
      const outcome = outcomeOf(r.stdout);
      expect({ code: r.code, exit_code: outcome.exit_code, kind: outcome.error?.kind }).toEqual({
        code: 1,
        exit_code: 1,
        kind: 'backfill_stopped',
      });
      expect(outcome.error).toMatchObject({
        table: expect.stringContaining('customers'),
        migration: 'split-full-name',
      });
    } finally {
      await sql(url, `SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)'`);
      await Promise.all(sleeping);
      await Promise.all(busy.map((c) => c.end()));
    }
  });
});
