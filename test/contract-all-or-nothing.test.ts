import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { freshDatabase, sql } from './db';
import { runCli, spawnCli } from './cli-run';

/**
 * Contract is all or nothing from the app's point of view: when it fails after building a unique
 * index and validating a CHECK but before its transaction commits, the old version (which may
 * still run, or be walked back to) is not refused by them, "nothing changed" is printed only
 * when true, and status names what a contract that could not take them back left enforced.
 */
function specFile(name: string, yaml: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-contract-'));
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, yaml);
  return file;
}

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!);
// A column operation too: its sync trigger is what contract's transaction drops first (an object-only spec installs none).
const SPEC = `name: rules\ntable: accounts\noperations:\n  - add_unique: { name: accounts_email_key, columns: [email] }\n  - add_check: { name: accounts_qty_nonneg, check: "qty >= 0" }\n  - add_column: { name: note, type: text }\n`;
const SETUP = `CREATE TABLE accounts (id int PRIMARY KEY, email text, qty int);
  INSERT INTO accounts VALUES (1, 'a@x', 1), (2, 'b@x', 2);
  -- A change freeze: contract's own transaction (it drops the sync trigger first) is refused.
  CREATE FUNCTION freeze() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'change freeze: % refused', tg_tag; END $$;
  CREATE EVENT TRIGGER freeze_drop_trigger ON ddl_command_start WHEN TAG IN ('DROP TRIGGER') EXECUTE FUNCTION freeze();`;

const enforced = async (url: string) =>
  sql(
    url,
    `SELECT (SELECT count(*)::int FROM pg_class WHERE relname = 'accounts_email_key') AS index,
            (SELECT count(*)::int FROM pg_constraint WHERE conname = 'accounts_qty_nonneg') AS checks`,
  );

it('a contract that fails in its transaction takes back the unique index and the CHECK it enforced before it', async () => {
  const url = await freshDatabase('contractundo');
  await sql(url, SETUP);
  const file = specFile('rules', SPEC);
  const env = { DATABASE_URL: url };
  expect((await runCli(['expand', file], env)).code).toBe(0);
  expect((await runCli(['backfill', file], env)).code).toBe(0);
  const failed = await runCli(['contract', file, '--json'], env);
  expect(failed.code).toBe(1);
  expect(lastJson(failed.stdout)).toMatchObject({ ok: false, exit_code: 1, error: { kind: 'step_failed' } });
  expect(lastJson(failed.stdout).error.message).toMatch(
    /^contract failed at "drop-trigger .*" and was rolled back, nothing changed: change freeze: DROP TRIGGER refused/,
  );
  expect(await enforced(url)).toEqual([{ index: 0, checks: 0 }]);
  // The old version still runs: its duplicate and its negative quantity are not refused.
  await sql(url, `INSERT INTO accounts VALUES (3, 'a@x', -1)`);
  const status = lastJson((await runCli(['status', file, '--json'], env)).stdout);
  expect(status.step).toBe('backfilled');
  expect(status.enforcedBeforeContract).toBeUndefined();
  // Once the data is fixed and the freeze is over, contract enforces both, for good.
  await sql(url, `DELETE FROM accounts WHERE id = 3; DROP EVENT TRIGGER freeze_drop_trigger`);
  expect((await runCli(['contract', file], env)).code).toBe(0);
  expect(await enforced(url)).toEqual([{ index: 1, checks: 1 }]);
});

it('when the CHECK cannot be taken back either, contract does not say nothing changed, and status names what stays enforced', async () => {
  const url = await freshDatabase('contractstuck');
  await sql(url, SETUP);
  // The freeze refuses dropping the constraint too (so the undo of the CHECK fails; the index is dropped concurrently).
  await sql(
    url,
    `CREATE FUNCTION freeze_drop_constraint() RETURNS event_trigger LANGUAGE plpgsql AS $$
       BEGIN IF current_query() ~* 'DROP CONSTRAINT' THEN RAISE EXCEPTION 'change freeze: DROP CONSTRAINT refused'; END IF; END $$;
     CREATE EVENT TRIGGER freeze_drop_constraint ON ddl_command_start WHEN TAG IN ('ALTER TABLE') EXECUTE FUNCTION freeze_drop_constraint();`,
  );
  const file = specFile('rules', SPEC);
  const env = { DATABASE_URL: url };
  expect((await runCli(['expand', file], env)).code).toBe(0);
  expect((await runCli(['backfill', file], env)).code).toBe(0);
  const failed = await runCli(['contract', file, '--json'], env);
  expect(failed.code).toBe(1);
  const outcome = lastJson(failed.stdout);
  expect(outcome).toMatchObject({
    ok: false,
    exit_code: 1,
    error: {
      kind: 'contract_incomplete',
      table: 'public.accounts',
      enforced: ['constraint of check-accounts_qty_nonneg'],
    },
  });
  const error = outcome.error;
  expect(error.message).not.toMatch(/nothing changed/);
  expect(error.message).toMatch(
    /^contract did not complete \(.*change freeze: DROP TRIGGER refused\), and what it enforced before its transaction is still enforced on public\.accounts .*: constraint of check-accounts_qty_nonneg .*run tandem contract again to finish, or tandem rollback/,
  );
  expect(await enforced(url)).toEqual([{ index: 0, checks: 1 }]);
  const status = lastJson((await runCli(['status', file, '--json'], env)).stdout);
  expect(status.step).toBe('backfilled');
  expect(status.enforcedBeforeContract).toEqual(['constraint of check-accounts_qty_nonneg']);
  expect(status.message).toMatch(/contract did not complete, yet enforces constraint of check-accounts_qty_nonneg/);
  // The way out it names: rollback removes it once the freeze is over.
  await sql(url, `DROP EVENT TRIGGER freeze_drop_constraint; DROP EVENT TRIGGER freeze_drop_trigger`);
  expect((await runCli(['rollback', file], env)).code).toBe(0);
  expect(await enforced(url)).toEqual([{ index: 0, checks: 0 }]);
});

it('a contract whose connection is lost inside its transaction takes back what it enforced, on a new connection', async () => {
  const url = await freshDatabase('contractlost');
  await sql(
    url,
    `CREATE TABLE accounts (id int PRIMARY KEY, email text, qty int); INSERT INTO accounts VALUES (1, 'a@x', 1), (2, 'b@x', 2);`,
  );
  const file = specFile('rules', SPEC);
  const env = { DATABASE_URL: url };
  expect((await runCli(['expand', file], env)).code).toBe(0);
  expect((await runCli(['backfill', file], env)).code).toBe(0);
  // The client stalls inside contract's transaction until the server ends its session (the hold bound).
  const lost = await spawnCli(['contract', file, '--hold-timeout', '500', '--json'], {
    ...env,
    TANDEM_TEST_STALL_AFTER: 'lock-table',
    TANDEM_TEST_STALL_MS: '3000',
  });
  expect(lost.code).toBe(1);
  expect(lastJson(lost.stdout).error.message).toMatch(/^lost the connection to PostgreSQL during tandem contract/);
  expect(await enforced(url)).toEqual([{ index: 0, checks: 0 }]);
  await sql(url, `INSERT INTO accounts VALUES (3, 'a@x', -1)`);
  expect(lastJson((await runCli(['status', file, '--json'], env)).stdout).step).toBe('backfilled');
});
