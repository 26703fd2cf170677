import { ColumnMapping } from '../phases/sql/operations';
import { quoteIdent } from '../phases/sql/identifiers';
import { Evaluated, ExpressionEvaluator, Row } from './expression-evaluator';
import { ModelColumn } from './table-model';
import { columnValues } from './value-generator';

/** Values of some columns, as text. */
export type Values = Readonly<Record<string, string | null>>;

/**
 * One pair of old-side and new-side values of an operation that the spec's expressions tie
 * together: `new` is what a new version writes, `old` = down(new) what the old versions then see,
 * and `back` = up(old) what a walk back would re-derive. Entries from realistic old values also keep
 * the `raw` old value they came from (new = up(raw)).
 */
export interface Entry {
  readonly source: 'old' | 'variation';
  readonly raw?: Values;
  readonly new: Values;
  readonly old: Values;
  readonly back: Values;
  /** up(down(new)) = new: what the new version wrote survives a rollback. */
  readonly roundTrips: boolean;
}

export type ExampleKind = 'up_raises' | 'down_raises' | 'not_inverse';

export interface RoundTripExample {
  readonly operation: string;
  readonly kind: ExampleKind;
  /** The realistic old value (up's input), when the example starts from one. */
  readonly raw?: Values;
  readonly new?: Values;
  readonly down?: Values;
  readonly back?: Values;
  readonly error?: string;
}

export interface MappingPool {
  readonly mapping: ColumnMapping;
  readonly oldColumns: readonly string[];
  readonly newColumns: readonly string[];
  /** Entries the traffic writes: every realistic one that evaluates, and the variations that survive down and back. */
  readonly entries: readonly Entry[];
  /** Entries from realistic old values, by the JSON of the raw old value. */
  readonly byRaw: ReadonlyMap<string, Entry>;
  /** Spec defects: on realistic old values, up raises, down raises, or up(down(new)) != new. */
  readonly defects: { readonly count: number; readonly examples: RoundTripExample[] };
  /** Rollback risks: variations within the new type that do not survive down and back. */
  readonly risks: { readonly count: number; readonly checked: number; readonly examples: RoundTripExample[] };
}

const EXAMPLES = 5;

export function pick(row: Row, columns: readonly string[]): Values {
  const out: Record<string, string | null> = {};
  for (const c of columns) out[c] = row[c] ?? null;
  return out;
}

export function sameValues(a: Values | undefined, b: Values | undefined, columns: readonly string[]): boolean {
  if (!a || !b) return false;
  return columns.every((c) => (a[c] ?? null) === (b[c] ?? null));
}

export function rawKey(values: Values, columns: readonly string[]): string {
  return JSON.stringify(columns.map((c) => values[c] ?? null));
}

export interface RoundTripArgs {
  readonly evaluator: ExpressionEvaluator;
  readonly mapping: ColumnMapping;
  /** Columns of the table before expand (types and NOT NULL of the old columns). */
  readonly tableColumns: readonly ModelColumn[];
  /** The new columns as the generator sees their types. */
  readonly newColumnModels: readonly ModelColumn[];
  /** The table's CHECK constraints that read an old column: a down that breaks one fails the new version's write. */
  readonly checks: readonly { readonly name: string; readonly columns: readonly string[]; readonly expr: string }[];
  /** Realistic rows: the seeded or sampled rows. */
  readonly rows: readonly Row[];
  readonly variations: number;
  readonly random: () => number;
}

/**
 * Evaluate an operation's up and down in SQL over realistic rows and over variations within the new
 * types: the pool of value pairs the rehearsal's traffic writes, and what the spec gets wrong.
 */
export async function analyseRoundTrips(a: RoundTripArgs): Promise<MappingPool> {
  const analysis = new RoundTripAnalysis(a);
  await analysis.realisticValues();
  await analysis.variations();
  return analysis.pool();
}

/** Examples of one kind of finding (defects or rollback risks), counted, the first few kept. */
class Findings {
  count = 0;
  readonly examples: RoundTripExample[] = [];

  constructor(private readonly sameAs: (a: RoundTripExample, b: RoundTripExample) => boolean) {}

  add(e: RoundTripExample): void {
    this.count++;
    if (this.examples.length < EXAMPLES && !this.examples.some((x) => this.sameAs(x, e))) this.examples.push(e);
  }
}

/** One operation's up and down, evaluated: the entries found so far, the defects and the rollback risks. */
class RoundTripAnalysis {
  private readonly m: ColumnMapping;
  private readonly oldColumns: string[];
  private readonly newColumns: string[];
  private readonly up: { sql: string; castTo?: string }[];
  private readonly down: { sql: string; castTo?: string }[];
  private readonly notNullOld: string[];
  private readonly checks: RoundTripArgs['checks'];
  private readonly entries: Entry[] = [];
  private readonly byRaw = new Map<string, Entry>();
  private readonly defects = new Findings(
    (d, e) => d.kind === e.kind && JSON.stringify(d.raw) === JSON.stringify(e.raw),
  );
  private readonly risks = new Findings((r, e) => r.kind === e.kind && JSON.stringify(r.new) === JSON.stringify(e.new));
  private checked = 0;

  constructor(private readonly a: RoundTripArgs) {
    const m = a.mapping;
    this.m = m;
    this.oldColumns = [...m.oldColumns];
    this.newColumns = m.newColumns.map((c) => c.name);
    // A new column without `up` (a constant default, catalog-only) holds its default on old-side rows.
    this.up = m.newColumns.map((c) => ({ sql: c.up ?? c.default ?? 'NULL', castTo: c.type }));
    const oldType = (name: string) => a.tableColumns.find((c) => c.name === name);
    this.down = this.oldColumns.map((c) => ({ sql: m.down[c] ?? quoteIdent(c), castTo: oldType(c)?.type }));
    this.notNullOld = this.oldColumns.filter((c) => oldType(c)?.notNull);
    this.checks = a.checks.filter((c) => c.columns.some((x) => this.oldColumns.includes(x)));
  }

  /** 1. Realistic old values: new = up(row); then down and back. */
  async realisticValues(): Promise<void> {
    const { a, m } = this;
    const label = m.label;
    const ups = await a.evaluator.evaluate(a.rows, this.up);
    const upped: { row: Row; raw: Values; nw: Values }[] = [];
    a.rows.forEach((row, i) => {
      const raw = pick(row, this.oldColumns);
      const u = ups[i];
      if (!u.ok) return this.defects.add({ operation: label, kind: 'up_raises', raw, error: u.error });
      upped.push({ row, raw, nw: toValues(this.newColumns, u.values) });
    });
    const trips = await this.downAndBack(upped.map((u) => ({ ...u.row, ...u.nw })));
    upped.forEach((u, i) => {
      const { down: d, back: b } = trips[i];
      if (!d.ok)
        return this.defects.add({ operation: label, kind: 'down_raises', raw: u.raw, new: u.nw, error: d.error });
      const old = toValues(this.oldColumns, d.values);
      const nn = this.nullInNotNull(old);
      if (nn)
        return this.defects.add({
          operation: label,
          kind: 'down_raises',
          raw: u.raw,
          new: u.nw,
          down: old,
          error: `down gives NULL for the NOT NULL column ${nn}`,
        });
      if (!b.ok)
        return this.defects.add({
          operation: label,
          kind: 'up_raises',
          raw: u.raw,
          new: u.nw,
          down: old,
          error: b.error,
        });
      const back = toValues(this.newColumns, b.values);
      const roundTrips = sameValues(back, u.nw, this.newColumns);
      if (!roundTrips)
        this.defects.add({ operation: label, kind: 'not_inverse', raw: u.raw, new: u.nw, down: old, back });
      const entry: Entry = { source: 'old', raw: u.raw, new: u.nw, old, back, roundTrips };
      this.entries.push(entry);
      this.byRaw.set(rawKey(u.raw, this.oldColumns), entry);
    });
  }

  /** 2. Variations within the new types, on realistic rows. */
  async variations(): Promise<void> {
    const { newColumns } = this;
    if (!newColumns.length || !this.a.rows.length) return;
    const valid = await this.validVariations();
    if (!this.oldColumns.length) {
      // No old side (add_column): nothing for down to carry back, so no value is at risk; a
      // rollback drops the column, which is what rolling back an added column means.
      for (const row of valid) {
        this.checked++;
        const nw = pick(row, newColumns);
        this.entries.push({ source: 'variation', new: nw, old: {}, back: nw, roundTrips: true });
      }
      return;
    }
    const vt = await this.downAndBack(valid);
    valid.forEach((row, i) => {
      this.checked++;
      const entry = this.variationEntry(pick(row, newColumns), vt[i]);
      if (entry) this.entries.push(entry);
    });
  }

  /** Rows with new values drawn within the new types, as PostgreSQL stores them; values the type rejects are dropped. */
  private async validVariations(): Promise<Row[]> {
    const { a, newColumns } = this;
    const sources = a.newColumnModels.map((c) => columnValues(c, a.random));
    const candidates: Row[] = Array.from({ length: a.variations }, () => {
      const base = a.rows[Math.floor(a.random() * a.rows.length)];
      const nw: Record<string, string | null> = {};
      newColumns.forEach((c, i) => (nw[c] = sources[i]()));
      return { ...base, ...nw };
    });
    const canonical = await a.evaluator.evaluate(
      candidates,
      newColumns.map((c) => ({ sql: quoteIdent(c) })),
    );
    return candidates.flatMap((r, i) => {
      const c = canonical[i];
      return c.ok ? [{ ...r, ...toValues(newColumns, c.values) }] : [];
    });
  }

  /** A variation that survives down and back, or undefined with the risk recorded. */
  private variationEntry(nw: Values, trip: { down: Evaluated; back: Evaluated }): Entry | undefined {
    const label = this.m.label;
    const { down: d, back: b } = trip;
    if (!d.ok) return void this.risks.add({ operation: label, kind: 'down_raises', new: nw, error: d.error });
    const old = toValues(this.oldColumns, d.values);
    const nn = this.nullInNotNull(old);
    if (nn)
      return void this.risks.add({
        operation: label,
        kind: 'down_raises',
        new: nw,
        down: old,
        error: `down gives NULL for the NOT NULL column ${nn}`,
      });
    if (!b.ok) return void this.risks.add({ operation: label, kind: 'up_raises', new: nw, down: old, error: b.error });
    const back = toValues(this.newColumns, b.values);
    if (!sameValues(back, nw, this.newColumns))
      return void this.risks.add({ operation: label, kind: 'not_inverse', new: nw, down: old, back });
    return { source: 'variation', new: nw, old, back, roundTrips: true };
  }

  /** down(new) then up of that, over `rows` whose new columns hold the new values; a down that breaks a CHECK counts as raising. */
  private async downAndBack(rows: Row[]): Promise<{ down: Evaluated; back: Evaluated }[]> {
    const { evaluator } = this.a;
    const downs = await evaluator.evaluate(rows, this.down);
    const backRows = rows.map((r, i) => {
      const d = downs[i];
      return d.ok ? { ...r, ...toValues(this.oldColumns, d.values) } : r;
    });
    const backs = await evaluator.evaluate(backRows, this.up);
    const held = await evaluator.evaluate(
      backRows,
      this.checks.map((c) => ({ sql: `(${c.expr}) IS NOT FALSE` })),
    );
    return rows.map((_, i): { down: Evaluated; back: Evaluated } => {
      const h = held[i];
      const broken = h.ok ? this.checks.find((_, k) => h.values[k] !== 'true') : undefined;
      if (downs[i].ok && broken)
        return {
          down: { ok: false, code: '23514', error: `the result breaks the CHECK constraint ${broken.name}` },
          back: backs[i],
        };
      return { down: downs[i], back: backs[i] };
    });
  }

  private nullInNotNull(values: Values): string | undefined {
    return this.notNullOld.find((c) => values[c] === null);
  }

  pool(): MappingPool {
    return {
      mapping: this.m,
      oldColumns: this.oldColumns,
      newColumns: this.newColumns,
      entries: this.entries,
      byRaw: this.byRaw,
      defects: { count: this.defects.count, examples: this.defects.examples },
      risks: { count: this.risks.count, checked: this.checked, examples: this.risks.examples },
    };
  }
}

function toValues(columns: readonly string[], values: (string | null)[]): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  columns.forEach((c, i) => (out[c] = values[i]));
  return out;
}

/** One sentence per example, for the CLI and the report. */
/** Values as JSON, each string cut to a readable length (`"xxxx…" (2000 characters)`). */
export function shortJson(x: object | null | undefined, max = 40): string {
  if (x === null || x === undefined) return JSON.stringify(x ?? null);
  const parts = Object.entries(x).map(([k, val]) => {
    const text =
      typeof val === 'string' && [...val].length > max
        ? `${JSON.stringify([...val].slice(0, max).join('') + '…')} (${[...val].length} characters)`
        : JSON.stringify(val ?? null);
    return `${JSON.stringify(k)}:${text}`;
  });
  return `{${parts.join(',')}}`;
}

export function describeExample(e: RoundTripExample): string {
  const v = (x: Values | undefined) => (x ? shortJson(x) : '');
  switch (e.kind) {
    case 'up_raises':
      return `${e.operation}: up raises on ${v(e.down ?? e.raw)}: ${e.error}`;
    case 'down_raises':
      return `${e.operation}: down of ${v(e.new)}${e.raw ? ` (up of ${v(e.raw)})` : ''} fails: ${e.error}`;
    case 'not_inverse':
      return `${e.operation}: ${e.raw ? `up of ${v(e.raw)} is ` : ''}${v(e.new)}, down gives ${v(e.down)}, and up of that is ${v(e.back)}`;
  }
}
