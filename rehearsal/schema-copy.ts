import { Client } from 'pg';
import { CatalogError } from '../phases/errors';
import { quoteIdent, quoteLiteral, quoteQualified } from '../phases/sql/identifiers';
import { MigrationSpec } from '../phases/sql/spec';
import { copyIn, copyOut, dumpSchema, psqlScript } from './pg-tools';

/** The tables a copy needs: the spec's table first, then the tables its foreign keys reference (transitively). */
export interface SourceTables {
  readonly target: { readonly schema: string; readonly name: string };
  /** Every table copied, the target first; edges child -> parent for sampling. */
  readonly tables: readonly { readonly oid: number; readonly schema: string; readonly name: string }[];
  readonly edges: readonly {
    readonly child: number;
    readonly parent: number;
    readonly columns: readonly string[];
    readonly refColumns: readonly string[];
  }[];
}

/** A session on the user's database that cannot write: every transaction in it is read-only. */
export async function openReadOnly(url: string): Promise<Client> {
  const client = new Client({ connectionString: url, options: '-c default_transaction_read_only=on' });
  client.on('error', () => undefined);
  await client.connect();
  await client.query('SET default_transaction_read_only = on');
  return client;
}

export async function sourceTables(src: Client, spec: MigrationSpec): Promise<SourceTables> {
  const name = spec.schema ? `${spec.schema}.${spec.table}` : spec.table;
  const { rows } = await src.query(
    `SELECT c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND c.oid = to_regclass($1)`,
    [spec.schema ? quoteQualified(spec.schema, spec.table) : quoteIdent(spec.table)],
  );
  if (!rows[0])
    throw new CatalogError('table', name, `table ${name} does not exist in the database given with --schema-from`);
  const target = { oid: Number(rows[0].oid), schema: rows[0].schema as string, name: rows[0].name as string };
  const { rows: fks } = await src.query(
    `WITH RECURSIVE fk(child, parent, columns, ref_columns) AS (
        SELECT c.conrelid, c.confrelid, c.conkey, c.confkey FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid = $1
      UNION
        SELECT c.conrelid, c.confrelid, c.conkey, c.confkey FROM pg_constraint c JOIN fk ON c.conrelid = fk.parent WHERE c.contype = 'f')
     SELECT fk.child::int8 AS child, fk.parent::int8 AS parent, pn.nspname AS schema, p.relname AS name,
            ARRAY(SELECT a.attname::text FROM unnest(fk.columns) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = fk.child AND a.attnum = k.n ORDER BY k.o) AS columns,
            ARRAY(SELECT a.attname::text FROM unnest(fk.ref_columns) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = fk.parent AND a.attnum = k.n ORDER BY k.o) AS ref_columns
       FROM fk JOIN pg_class p ON p.oid = fk.parent JOIN pg_namespace pn ON pn.oid = p.relnamespace`,
    [target.oid],
  );
  const tables = [target];
  for (const f of fks)
    if (!tables.some((t) => t.oid === Number(f.parent)))
      tables.push({ oid: Number(f.parent), schema: f.schema, name: f.name });
  return {
    target: { schema: target.schema, name: target.name },
    tables,
    edges: fks
      .filter((f) => Number(f.child) !== Number(f.parent))
      .map((f) => ({
        child: Number(f.child),
        parent: Number(f.parent),
        columns: f.columns,
        refColumns: f.ref_columns,
      })),
  };
}

/**
 * What pg_dump -t leaves out but the tables need: the roles their policies name, extensions,
 * schemas, enum and domain types of their columns, and the functions their triggers, defaults,
 * checks and policies call. Read from the catalog, as DDL for the scratch server.
 */
export async function preludeSql(src: Client, tables: SourceTables): Promise<{ sql: string; sequences: string[] }> {
  const oids = tables.tables.map((t) => t.oid);
  const out: string[] = ['SET check_function_bodies = false;'];
  const { rows: roles } = await src.query(
    `SELECT DISTINCT r.rolname FROM pg_policy p JOIN pg_roles r ON r.oid = ANY(p.polroles) WHERE p.polrelid = ANY($1::oid[])`,
    [oids],
  );
  for (const r of roles) {
    out.push(
      `DO $r$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${quoteLiteral(r.rolname)}) THEN CREATE ROLE ${quoteIdent(r.rolname)} NOLOGIN; END IF; END $r$;`,
    );
  }
  // Types of the columns, unwrapping arrays and domains; kept in dependency order (bases first).
  const { rows: types } = await src.query(
    `WITH RECURSIVE t(oid, depth) AS (
        SELECT DISTINCT CASE WHEN ty.typcategory = 'A' THEN ty.typelem ELSE ty.oid END, 0
          FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
      UNION
        SELECT CASE WHEN b.typcategory = 'A' THEN b.typelem ELSE b.oid END, t.depth + 1 FROM t JOIN pg_type d ON d.oid = t.oid AND d.typtype = 'd' JOIN pg_type b ON b.oid = d.typbasetype)
     SELECT ty.oid::int8 AS oid, n.nspname AS schema, ty.typname AS name, ty.typtype AS kind, max(t.depth) AS depth,
            format_type(ty.typbasetype, ty.typtypmod) AS base, ty.typnotnull AS not_null, ty.typdefault AS dflt,
            (SELECT e.extname FROM pg_depend dp JOIN pg_extension e ON e.oid = dp.refobjid WHERE dp.classid = 'pg_type'::regclass AND dp.objid = ty.oid AND dp.deptype = 'e') AS extension,
            ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = ty.oid ORDER BY e.enumsortorder) AS labels,
            ARRAY(SELECT 'CONSTRAINT ' || quote_ident(c.conname) || ' ' || pg_get_constraintdef(c.oid) FROM pg_constraint c WHERE c.contypid = ty.oid ORDER BY c.conname) AS checks
       FROM t JOIN pg_type ty ON ty.oid = t.oid JOIN pg_namespace n ON n.oid = ty.typnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
      GROUP BY ty.oid, n.nspname
      ORDER BY max(t.depth) DESC, ty.oid`,
    [oids],
  );
  const { rows: funcs } = await src.query(
    `SELECT DISTINCT p.oid::int8 AS oid, n.nspname AS schema, pg_get_functiondef(p.oid) AS def,
            (SELECT e.extname FROM pg_depend dp JOIN pg_extension e ON e.oid = dp.refobjid WHERE dp.classid = 'pg_proc'::regclass AND dp.objid = p.oid AND dp.deptype = 'e') AS extension
       FROM pg_depend d JOIN pg_proc p ON d.refclassid = 'pg_proc'::regclass AND d.refobjid = p.oid
       JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND p.prokind IN ('f', 'p')
        AND ((d.classid = 'pg_attrdef'::regclass AND d.objid IN (SELECT oid FROM pg_attrdef WHERE adrelid = ANY($1::oid[])))
          OR (d.classid = 'pg_constraint'::regclass AND d.objid IN (SELECT oid FROM pg_constraint WHERE conrelid = ANY($1::oid[]) OR contypid = ANY($2::oid[])))
          OR (d.classid = 'pg_trigger'::regclass AND d.objid IN (SELECT oid FROM pg_trigger WHERE tgrelid = ANY($1::oid[]) AND NOT tgisinternal))
          OR (d.classid = 'pg_policy'::regclass AND d.objid IN (SELECT oid FROM pg_policy WHERE polrelid = ANY($1::oid[]))))
      ORDER BY 1`,
    [oids, types.map((t) => t.oid)],
  );
  const { rows: seqs } = await src.query(
    `SELECT DISTINCT n.nspname AS schema, s.relname AS name
       FROM pg_depend d JOIN pg_class s ON d.refclassid = 'pg_class'::regclass AND d.refobjid = s.oid AND s.relkind = 'S'
       JOIN pg_namespace n ON n.oid = s.relnamespace
      WHERE d.classid = 'pg_attrdef'::regclass AND d.objid IN (SELECT oid FROM pg_attrdef WHERE adrelid = ANY($1::oid[]))`,
    [oids],
  );
  const extensions = new Set<string>([...types, ...funcs].map((x) => x.extension).filter(Boolean));
  for (const e of extensions) out.push(`CREATE EXTENSION IF NOT EXISTS ${quoteIdent(e)} CASCADE;`);
  const schemas = new Set<string>([
    ...tables.tables.map((t) => t.schema),
    ...types.map((t) => t.schema),
    ...funcs.map((f) => f.schema),
    ...seqs.map((s) => s.schema),
  ]);
  for (const s of schemas) out.push(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(s)};`);
  for (const t of types) {
    if (t.extension) continue;
    const name = quoteQualified(t.schema, t.name);
    if (t.kind === 'e')
      out.push(`CREATE TYPE ${name} AS ENUM (${(t.labels as string[]).map(quoteLiteral).join(', ')});`);
    else if (t.kind === 'd') {
      out.push(
        `CREATE DOMAIN ${name} AS ${t.base}${t.dflt !== null ? ` DEFAULT ${t.dflt}` : ''}${t.not_null ? ' NOT NULL' : ''}${(t.checks as string[]).map((c) => ' ' + c).join('')};`,
      );
    }
  }
  for (const f of funcs) if (!f.extension) out.push(`${(f.def as string).trim()};`);
  return { sql: out.join('\n') + '\n', sequences: seqs.map((s) => quoteQualified(s.schema, s.name)) };
}

/** Copy the definitions of the tables into the scratch database: the prelude, then pg_dump --schema-only of them. */
export async function copySchema(sourceUrl: string, scratchUrl: string, spec: MigrationSpec): Promise<SourceTables> {
  const src = await openReadOnly(sourceUrl);
  let tables: SourceTables;
  let prelude: { sql: string; sequences: string[] };
  try {
    tables = await sourceTables(src, spec);
    prelude = await preludeSql(src, tables);
  } finally {
    await src.end().catch(() => undefined);
  }
  const dump = dumpSchema(sourceUrl, [
    ...tables.tables.map((t) => quoteQualified(t.schema, t.name)),
    ...prelude.sequences,
  ]);
  psqlScript(
    scratchUrl,
    prelude.sql,
    'creating the types, functions and schemas the table needs on the scratch server',
  );
  psqlScript(scratchUrl, dump, 'restoring the table definitions on the scratch server');
  return tables;
}

/**
 * Copy `rows` real rows of the target (ordered by its primary key), and the rows of the referenced
 * tables they need, from the read-only source into the scratch tables (COPY out and in, parents first).
 */
export async function copySample(
  sourceUrl: string,
  scratchUrl: string,
  tables: SourceTables,
  rows: number,
): Promise<number> {
  const src = await openReadOnly(sourceUrl);
  const queries = new Map<number, string>();
  const columns = new Map<number, string[]>();
  try {
    for (const t of tables.tables) {
      const { rows: cols } = await src.query(
        `SELECT attname FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum`,
        [t.oid],
      );
      columns.set(
        t.oid,
        cols.map((c) => c.attname),
      );
    }
    const [target] = tables.tables;
    const { rows: pk } = await src.query(
      `SELECT a.attname FROM pg_index i JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(n, o) ON true JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n
        WHERE i.indrelid = $1 AND i.indisprimary ORDER BY k.o`,
      [target.oid],
    );
    const order = pk.length ? ` ORDER BY ${pk.map((p) => quoteIdent(p.attname)).join(', ')}` : '';
    const list = (oid: number) => columns.get(oid)!.map(quoteIdent).join(', ');
    queries.set(
      target.oid,
      `SELECT ${list(target.oid)} FROM ${quoteQualified(target.schema, target.name)}${order} LIMIT ${Math.floor(rows)}`,
    );
    // Breadth first from the target: a parent's rows are those its sampled children reference.
    const pending = [target.oid];
    while (pending.length) {
      const child = pending.shift()!;
      for (const e of tables.edges.filter((x) => x.child === child)) {
        const parent = tables.tables.find((t) => t.oid === e.parent)!;
        const refs = `(${e.refColumns.map(quoteIdent).join(', ')}) IN (SELECT ${e.columns.map(quoteIdent).join(', ')} FROM (${queries.get(child)}) AS s)`;
        const previous = queries.get(parent.oid);
        queries.set(
          parent.oid,
          previous
            ? `${previous} OR ${refs}`
            : `SELECT ${list(parent.oid)} FROM ${quoteQualified(parent.schema, parent.name)} WHERE ${refs}`,
        );
        if (!pending.includes(parent.oid)) pending.push(parent.oid);
      }
    }
  } finally {
    await src.end().catch(() => undefined);
  }
  let copied = 0;
  for (const t of [...tables.tables].reverse()) {
    const query = queries.get(t.oid);
    if (!query) continue;
    const name = quoteQualified(t.schema, t.name);
    const data = copyOut(sourceUrl, query, `copying sample rows of ${t.schema}.${t.name} out of the source`);
    copyIn(
      scratchUrl,
      `${name} (${columns.get(t.oid)!.map(quoteIdent).join(', ')})`,
      data,
      `copying sample rows into ${t.schema}.${t.name}`,
    );
    if (t.oid === tables.tables[0].oid) copied = data ? data.split('\n').filter((l) => l !== '').length : 0;
  }
  return copied;
}
