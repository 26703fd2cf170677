import { Client, ClientBase } from 'pg';
import { evaluationStartupOptions } from '../phases/sql/plans/evaluation-settings';
import { quoteIdent } from '../phases/sql/identifiers';

/** A row as text, the way PostgreSQL prints each value; null is SQL NULL, a missing column is NULL too. */
export type Row = Readonly<Record<string, string | null>>;

export interface EvalColumn {
  readonly name: string;
  /** The column's type (format_type), e.g. `numeric(12,2)`: each value is cast to it. */
  readonly type: string;
}

export interface Expression {
  readonly sql: string;
  /** Cast the result to this type (the column it is assigned to), then to text. */
  readonly castTo?: string;
}

export type Evaluated =
  | { readonly ok: true; readonly values: (string | null)[] }
  | { readonly ok: false; readonly code: string; readonly error: string };

const ORDINAL = '_tandem_ord';

/**
 * Evaluates a spec's SQL expressions over rows given as text, on the scratch server: each row
 * becomes a relation named like the table, whose columns carry the table's column names and types,
 * so an expression resolves names as in the backfill's UPDATE. A row on which an expression
 * raises (or a value that its type rejects) gives an error for that row only.
 */
export class ExpressionEvaluator {
  private ready = false;

  /** `client` is one session: the evaluator creates a temporary function in it. */
  constructor(
    private readonly client: ClientBase,
    private readonly relationName: string,
    private readonly columns: readonly EvalColumn[],
  ) {}

  private relation(source: string): string {
    const cols = this.columns.map((c) => `(${source} ->> ${literal(c.name)})::${c.type} AS ${quoteIdent(c.name)}`);
    return cols.join(', ');
  }

  private selectList(exprs: readonly Expression[]): string {
    const items = exprs.map((e) => (e.castTo ? `((${e.sql})::${e.castTo})::text` : `(${e.sql})::text`));
    return `ARRAY[${items.join(', ')}]::text[]`;
  }

  private async init(): Promise<void> {
    if (this.ready) return;
    await this.client
      .query(`CREATE OR REPLACE FUNCTION pg_temp.tandem_rehearsal_eval(q text, r jsonb) RETURNS text[] LANGUAGE plpgsql AS $f$
      DECLARE result text[];
      BEGIN
        EXECUTE q INTO result USING r;
        RETURN array_prepend('ok', result);
      EXCEPTION WHEN others THEN
        RETURN ARRAY['error', SQLSTATE, SQLERRM];
      END $f$`);
    this.ready = true;
  }

  async evaluate(rows: readonly Row[], exprs: readonly Expression[]): Promise<Evaluated[]> {
    if (rows.length === 0) return [];
    if (exprs.length === 0) return rows.map(() => ({ ok: true, values: [] }));
    await this.init();
    const rel = quoteIdent(this.relationName);
    const payload = JSON.stringify(rows.map((r) => ({ ...r })));
    const chunk = 2000;
    if (rows.length > chunk) {
      const out: Evaluated[] = [];
      for (let i = 0; i < rows.length; i += chunk) out.push(...(await this.evaluate(rows.slice(i, i + chunk), exprs)));
      return out;
    }
    try {
      const { rows: result } = await this.client.query(
        `SELECT ${this.selectList(exprs)} AS v
           FROM (SELECT x.o AS ${ORDINAL}, ${this.relation('x.r')} FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(r, o)) AS ${rel}
          ORDER BY ${rel}.${ORDINAL}`,
        [payload],
      );
      return result.map((r) => ({ ok: true, values: r.v }));
    } catch {
      // Some row raises: fall through to row by row.
    }
    // Some row raises: evaluate row by row, each in its own subtransaction.
    const single = `SELECT ${this.selectList(exprs)} FROM (SELECT ${this.relation('$1')}) AS ${rel}`;
    const { rows: result } = await this.client.query(
      `SELECT pg_temp.tandem_rehearsal_eval($1, x.r) AS v FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS x(r, o) ORDER BY x.o`,
      [single, payload],
    );
    return result.map((r): Evaluated =>
      r.v[0] === 'ok' ? { ok: true, values: r.v.slice(1) } : { ok: false, code: r.v[1], error: r.v[2] },
    );
  }
}

function literal(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** One session of its own for the evaluator (its temporary function lives in it). */
export async function openEvaluatorSession(url: string): Promise<Client> {
  // Under the settings the trigger and the backfill evaluate with (TimeZone UTC, DateStyle ISO, ...).
  const client = new Client({ connectionString: url, options: evaluationStartupOptions() });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}
