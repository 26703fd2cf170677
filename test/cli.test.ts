import { createOutput } from '../cli/output';
import { freshDatabase, sql } from './db';
import { Capture, runCli } from './cli-run';
import { createCustomers, SPLIT_SPEC_PATH } from './fixtures';

/** The CLI's happy path, as a pipeline drives it: --json everywhere, exit codes as documented. */
describe('tandem, step by step', () => {
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    const url = await freshDatabase('cli');
    await createCustomers(url, 2500);
    env = { DATABASE_URL: url };
  });
  const json = async (args: string[], code = 0) => {
    const r = await runCli([...args, '--json'], env);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code, stderr: expect.any(String) });
    const lines = r.stdout.trim().split('\n');
    return JSON.parse(lines[lines.length - 1]);
  };

  it('validates offline and live', async () => {
    expect(await json(['validate', SPLIT_SPEC_PATH, '--offline'])).toMatchObject({ valid: true, live: false });
    expect(await json(['validate', SPLIT_SPEC_PATH])).toMatchObject({
      valid: true,
      live: true,
      table: 'public.customers',
      newColumns: [
        { name: 'first_name', type: 'text' },
        { name: 'last_name', type: 'text' },
      ],
      retiredColumns: ['full_name'],
    });
  });

  it.each([
    ['expand', /ALTER TABLE "public"\."customers"\n  ADD COLUMN "first_name" text,\n  ADD COLUMN "last_name" text/],
    [
      'backfill',
      /SET tandem\.backfill = 'on'[\s\S]*FOR UPDATE OF s SKIP LOCKED[\s\S]*UPDATE "public"\."customers" SET "first_name" = \(split_part\(full_name, ' ', 1\)\)/,
    ],
    ['contract', /DROP TRIGGER "zz_tandem_sync_split_full_name"[\s\S]*DROP COLUMN "full_name"/],
    ['rollback', /DROP COLUMN IF EXISTS "first_name"/],
  ])('prints the SQL of %s without running it', async (step, pattern) => {
    const r = await runCli(['sql', SPLIT_SPEC_PATH, '--step', step], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(pattern);
    const cols = await sql(
      env.DATABASE_URL!,
      `SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = 'customers'::regclass AND attname = 'first_name' AND NOT attisdropped`,
    );
    expect(cols[0].n).toBe(0);
  });

  it('walks expand -> backfill -> verify -> contract, with status along the way', async () => {
    expect(await json(['status', SPLIT_SPEC_PATH])).toMatchObject({ step: 'not_started' });
    expect(await json(['expand', SPLIT_SPEC_PATH])).toMatchObject({ step: 'expanded', changed: true });
    expect(await json(['verify', SPLIT_SPEC_PATH], 1)).toMatchObject({ ok: false, pendingRows: 2500 });
    expect(await json(['backfill', SPLIT_SPEC_PATH, '--batch-size', '700'])).toMatchObject({
      step: 'backfilled',
      rowsUpdated: 2500,
      batches: Math.ceil(2500 / 700),
    });
    expect(await json(['status', SPLIT_SPEC_PATH])).toMatchObject({
      step: 'backfilled',
      backfill: { done: 2500, pending: 0 },
      catalog: { trigger: true, newColumns: true, oldColumns: true },
    });
    expect(await json(['verify', SPLIT_SPEC_PATH])).toMatchObject({ ok: true, rows: 2500 });
    expect(await json(['contract', SPLIT_SPEC_PATH])).toMatchObject({ step: 'contracted', changed: true });
    expect(await json(['contract', SPLIT_SPEC_PATH])).toMatchObject({ step: 'contracted', changed: false });
    expect(await json(['status', SPLIT_SPEC_PATH])).toMatchObject({
      step: 'contracted',
      catalog: { trigger: false, oldColumns: false },
    });
  });

  it('prints words, not only colors, when not on a terminal', async () => {
    const r = await runCli(['validate', SPLIT_SPEC_PATH, '--offline'], env);
    expect(r.stdout).toBe(
      '✔ split-full-name: the spec is valid (offline check; give a database to check it against the live catalog)\n',
    );
  });
});

describe('accessible output', () => {
  it.each([
    ['a terminal', {}, true],
    ['a terminal with NO_COLOR', { NO_COLOR: '1' }, false],
    ['a terminal with NO_COLOR set empty (no-color.org: ignored)', { NO_COLOR: '' }, true],
    ['a dumb terminal', { TERM: 'dumb' }, false],
  ])('on %s', (_what, env, colored) => {
    const out = new Capture(true);
    const o = createOutput(out as any, new Capture(true) as any, env as NodeJS.ProcessEnv);
    o.line(o.fail('refused'));
    expect(out.text.includes('\u001b[')).toBe(colored);
    expect(out.text).toContain('✘ refused'); // the symbol and the word are there either way
  });
});
