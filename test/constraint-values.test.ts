import * as fs from 'fs';
import * as path from 'path';
import { Client } from 'pg';
import { randomSource } from '../rehearsal/british-names';
import { constantsOf, ConstraintRefusesError, learnValues, rowRules } from '../rehearsal/constraint-values';
import { patternSamples } from '../rehearsal/pattern-samples';
import { seedTable } from '../rehearsal/row-seeder';
import { loadTableModel } from '../rehearsal/table-model';
import { freshDatabase, sql } from './db';

const BILLING_SCHEMA = path.join(__dirname, 'fixtures', 'billing', 'schema.sql');

async function connect(url: string): Promise<Client> {
  const c = new Client({ connectionString: url });
  await c.connect();
  return c;
}

describe('the row generator learns what the constraints accept, from PostgreSQL', () => {
  it.each([
    [`(status = ANY (ARRAY['draft'::text, 'it''s'::text]))`, ['draft', "it's"]],
    [`((amount >= (0)::numeric) AND (amount <= (100000)::numeric))`, ['0', '100000']],
    [`(char_length(code) = 8)`, ['8']],
    [`(currency = ANY ('{GBP,EUR}'::bpchar[]))`, ['{GBP,EUR}']],
    [`("weird col" > '-5'::integer)`, ['-5']],
  ])('reads the constants of %s', (expr, constants) => {
    expect(constantsOf(expr)).toEqual(constants);
  });

  it.each([['^[A-Z]{3}-[0-9]{4}$'], ['^(INV|CRN)-\\d+(\\.[a-z]{2})?$'], ['^x*y+[ab]?z{2,3}$']])(
    'samples strings that %s matches, as PostgreSQL judges them',
    async (pattern) => {
      const url = await freshDatabase('pattern');
      const samples = patternSamples(pattern, randomSource(9));
      expect(samples.length).toBeGreaterThan(3);
      const rows = await sql(url, `SELECT bool_and(v ~ $1) AS ok FROM unnest($2::text[]) v`, [pattern, samples]);
      expect(rows).toEqual([{ ok: true }]);
    },
  );

  it("seeds 10,000 rows that keep IN lists, = ANY arrays, ranges, a length, a date bound, a domain's CHECK, the spec's CHECK and the foreign key", async () => {
    const url = await freshDatabase('learn_values');
    await sql(url, fs.readFileSync(BILLING_SCHEMA, 'utf8'));
    await sql(
      url,
      `CREATE DOMAIN billing.percent AS integer CHECK (VALUE BETWEEN 0 AND 100);
                    ALTER TABLE billing.invoices ADD COLUMN tax billing.percent NOT NULL DEFAULT 20,
                                                 ADD COLUMN tier text CHECK (tier IN ('gold', 'silver')) UNIQUE,
                                                 ADD COLUMN ref text NOT NULL CHECK (ref ~ '^(INV|CRN)-[A-Z]{3}-[0-9]{4}$')`,
    );
    const c = await connect(url);
    try {
      const model = (await loadTableModel(c, 'billing', 'invoices'))!;
      const rules = await rowRules(c, model, [{ name: 'invoices_quantity_small', check: 'quantity <= 50' }]);
      expect(rules.map((r) => [r.kind, r.name, r.columns])).toEqual(
        expect.arrayContaining([
          ['check', 'invoices_status_check', ['status']],
          ['domain', 'percent_check', ['tax']],
          ['spec', 'invoices_quantity_small', ['quantity']],
        ]),
      );
      const learned = await learnValues(c, model, rules, randomSource(3));
      expect([...new Set(learned.values.get('status'))].sort()).toEqual(['draft', 'paid', 'sent', 'void']);
      expect([...new Set(learned.values.get('currency'))].sort()).toEqual(['EUR', 'GBP', 'USD']);

      const seeded = await seedTable(c, model, 10000, 50, randomSource(4), {
        specChecks: [{ name: 'invoices_quantity_small', check: 'quantity <= 50' }],
      });
      // A unique column with two admissible values: the rows are made, the column NULL in all but two.
      expect(seeded.inserted).toBe(10000);
      const [stats] = await sql(
        url,
        `SELECT count(*)::int AS n, count(DISTINCT status)::int AS statuses, min(quantity) AS qmin, max(quantity) AS qmax,
                                             bool_and(char_length(code) = 8) AS codes, count(code)::int AS with_code, count(tier)::int AS tiers,
                                             min(tax) >= 0 AND max(tax) <= 100 AS taxes, count(DISTINCT account_id)::int AS accounts, count(DISTINCT ref) > 100 AS refs
                                        FROM billing.invoices`,
      );
      expect(stats).toEqual({
        n: 10000,
        statuses: 4,
        qmin: 1,
        qmax: 50,
        codes: true,
        with_code: expect.any(Number),
        tiers: 2,
        taxes: true,
        accounts: 50,
        refs: true,
      });
      expect(stats.with_code).toBeGreaterThan(1000);
    } finally {
      await c.end();
    }
  });

  it('names the constraint that refuses every generated value, with an example and the way out', async () => {
    const url = await freshDatabase('learn_refused');
    await sql(
      url,
      `CREATE TABLE parts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, sku text NOT NULL CONSTRAINT parts_sku_format CHECK (sku ~ '^([A-Z])\\1-[0-9]+$'))`,
    );
    const c = await connect(url);
    try {
      const model = (await loadTableModel(c, undefined, 'parts'))!;
      const error = await seedTable(c, model, 100, 10, randomSource(1)).then(
        () => undefined,
        (e) => e,
      );
      expect(error).toBeInstanceOf(ConstraintRefusesError);
      expect(error.exitCode).toBe(2);
      expect(error.message).toMatch(
        /^the CHECK parts_sku_format \(\(sku ~ '\^\(\[A-Z\]\)\\1-\[0-9\]\+\$'::text\)\) of public\.parts refuses every one of \d+ generated values of sku, e\.g\. \{"sku":".*"\}: copy real rows with --schema-from URL --sample N, or rehearse on a --schema FILE/,
      );
      expect(await sql(url, `SELECT count(*)::int AS n FROM parts`)).toEqual([{ n: 0 }]);
    } finally {
      await c.end();
    }
  });

  it('seeds a table whose unique constraint is deferrable (which cannot arbitrate ON CONFLICT)', async () => {
    const url = await freshDatabase('learn_deferrable');
    await sql(
      url,
      `CREATE TABLE tags (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, label text NOT NULL, CONSTRAINT tags_label_key UNIQUE (label) DEFERRABLE INITIALLY DEFERRED)`,
    );
    const c = await connect(url);
    try {
      const model = (await loadTableModel(c, undefined, 'tags'))!;
      expect((await seedTable(c, model, 500, 10, randomSource(2))).inserted).toBe(500);
      expect(await sql(url, `SELECT count(*)::int AS n, count(DISTINCT label)::int AS labels FROM tags`)).toEqual([
        { n: 500, labels: 500 },
      ]);
    } finally {
      await c.end();
    }
  });
});
