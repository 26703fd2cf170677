import { createHash } from 'crypto';
import { Client } from 'pg';
import { RefusedError } from '../phases/errors';
import { quoteIdent, quoteQualified } from '../phases/sql/identifiers';
import { ObjectTask } from '../phases/sql/operations';
import { runDdlTransaction } from './ddl-transaction';
import { LockTimeoutError, StepFailedError } from './errors';
import { dropIndexConcurrently, indexState, runConcurrently, withRetries } from './object-steps';
import { ExecutorOptions } from './types';
import { errorCode, errorMessage } from '../phases/error-fields';

/**
 * Indexes of a partitioned table, which has no CREATE or DROP INDEX CONCURRENTLY. Built the way
 * PostgreSQL documents (CREATE INDEX, "partitioned tables"): an index ON ONLY the partitioned
 * table (catalog only; INVALID while a partition lacks its index), then for each partition an
 * index built concurrently (writes go on) and attached with ALTER INDEX ... ATTACH PARTITION
 * (catalog only); a sub-partitioned partition gets its own index ON ONLY, filled the same way,
 * before it is attached. The last attach makes the index valid. Every catalog-only statement runs
 * in a short transaction under lock_timeout and the hold bounds; a re-run resumes where a killed
 * build stopped (attached partitions are skipped, an INVALID partition index is rebuilt).
 */

type Table = { oid: number; label: string };
type Build = Extract<ObjectTask, { kind: 'index_build' }>;

export async function isPartitionedTable(client: Client, oid: number): Promise<boolean> {
  return (
    ((await client.query(`SELECT 1 FROM pg_class WHERE oid = $1::oid AND relkind = 'p'`, [oid])).rowCount ?? 0) > 0
  );
}

export async function isPartitionedIndex(client: Client, schema: string, index: string): Promise<boolean> {
  const r = await client.query(
    `SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind = 'I'`,
    [schema, index],
  );
  return (r.rowCount ?? 0) > 0;
}

/**
 * A partition's index: the index's name and the partition's oid. A name too long for 63 bytes is
 * shortened, and then carries a hash of the whole name, so two indexes whose names share their
 * first bytes (long generated names) never take each other's partition indexes for their own.
 */
export function partitionIndexName(index: string, partitionOid: number): string {
  const fits = `${index}_p${partitionOid}`;
  if (Buffer.byteLength(fits, 'utf8') <= 63) return fits;
  const suffix = `_${createHash('md5').update(index).digest('hex').slice(0, 8)}_p${partitionOid}`;
  let base = index;
  while (Buffer.byteLength(base + suffix, 'utf8') > 63) base = base.slice(0, -1);
  return base + suffix;
}

interface Partition {
  oid: number;
  schema: string;
  name: string;
  kind: string;
  /** Its index attached to the parent's index, if any. */
  attached: { schema: string; name: string; oid: number; valid: boolean } | null;
}

async function partitions(client: Client, parentOid: number, parentIndexOid: number): Promise<Partition[]> {
  const r = await client.query(
    `SELECT c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name, c.relkind AS kind,
            (SELECT json_build_object('schema', xn.nspname, 'name', xc.relname, 'oid', xc.oid::int8, 'valid', xi.indisvalid)
               FROM pg_inherits ii JOIN pg_index xi ON xi.indexrelid = ii.inhrelid JOIN pg_class xc ON xc.oid = xi.indexrelid JOIN pg_namespace xn ON xn.oid = xc.relnamespace
              WHERE ii.inhparent = $2::oid AND xi.indrelid = c.oid) AS attached
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE i.inhparent = $1::oid ORDER BY c.relname`,
    [parentOid, parentIndexOid],
  );
  return r.rows.map((x) => ({
    oid: Number(x.oid),
    schema: x.schema,
    name: x.name,
    kind: x.kind,
    attached: x.attached ? { ...x.attached, oid: Number(x.attached.oid) } : null,
  }));
}

/** The index named so in the schema: its oid, the relation it indexes, whether it is valid. */
async function indexOf(
  client: Client,
  schema: string,
  name: string,
): Promise<{ oid: number; relid: number; valid: boolean } | null> {
  const r = await client.query(
    `SELECT c.oid::int8 AS oid, i.indrelid::int8 AS relid, i.indisvalid AS valid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_index i ON i.indexrelid = c.oid WHERE n.nspname = $1 AND c.relname = $2`,
    [schema, name],
  );
  if (!r.rows.length) return null;
  return { oid: Number(r.rows[0].oid), relid: Number(r.rows[0].relid), valid: r.rows[0].valid === true };
}

async function qualifiedName(client: Client, oid: number): Promise<string> {
  return (
    await client.query(
      `SELECT format('%I.%I', n.nspname, c.relname) AS q FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::oid`,
      [oid],
    )
  ).rows[0].q;
}

class Builder {
  retries = 0;
  constructor(
    private readonly client: Client,
    private readonly step: string,
    private readonly table: Table,
    private readonly s: Build,
    private readonly options: ExecutorOptions,
  ) {}

  private get create(): string {
    return `CREATE ${this.s.unique ? 'UNIQUE ' : ''}INDEX`;
  }

  private async ddl(id: string, sql: string): Promise<void> {
    this.retries += (await runDdlTransaction(this.client, this.step, this.table, [{ id, sql }], this.options)).retries;
  }

  /** The index ON ONLY a partitioned relation (catalog only), named so in its schema. */
  async onOnly(relOid: number, schema: string, name: string): Promise<number> {
    const existing = await indexOf(this.client, schema, name);
    if (existing && existing.relid !== relOid)
      throw new StepFailedError(
        this.step,
        this.s.id,
        `relation ${schema}.${name} exists and is not this index; rename or drop it`,
      );
    if (!existing)
      await this.ddl(
        `${this.s.id}-on-only`,
        `${this.create} ${quoteIdent(name)} ON ONLY ${await qualifiedName(this.client, relOid)} ${this.s.definition}`,
      );
    return (await indexOf(this.client, schema, name))!.oid;
  }

  /** A leaf partition's index, built concurrently (an INVALID leftover is dropped and built again). */
  private async leaf(p: Partition, name: string): Promise<void> {
    const existing = await indexOf(this.client, p.schema, name);
    if (existing && existing.relid !== p.oid)
      throw new StepFailedError(
        this.step,
        this.s.id,
        `relation ${p.schema}.${name} exists and is not this index of partition ${p.schema}.${p.name}; rename or drop it`,
      );
    if (existing?.valid) return;
    if (existing)
      this.retries += await dropIndexConcurrently(this.client, this.step, this.table, p.schema, name, this.options);
    this.options.onProgress?.({
      kind: 'step',
      message: `${this.step}: building index ${name} on partition ${p.schema}.${p.name} concurrently`,
    });
    const sql = `${this.create} CONCURRENTLY ${quoteIdent(name)} ON ${quoteQualified(p.schema, p.name)} ${this.s.definition}`;
    this.retries += await withRetries(this.client, this.step, this.table, this.options, async () => {
      const state = await indexState(this.client, p.schema, name);
      if (state === 'valid') return;
      if (state === 'invalid')
        this.retries += await dropIndexConcurrently(this.client, this.step, this.table, p.schema, name, this.options);
      await runConcurrently(this.client, sql, this.options);
    });
  }

  /** Every partition of `relOid` gets its index attached to `indexOid` (named `index`), depth first. */
  async fill(relOid: number, index: string, indexOid: number): Promise<void> {
    for (const p of await partitions(this.client, relOid, indexOid)) {
      if (p.attached) {
        if (!p.attached.valid && p.kind === 'p')
          await this.fill(p.oid, quoteQualified(p.attached.schema, p.attached.name), p.attached.oid);
        continue;
      }
      const name = partitionIndexName(this.s.index, p.oid);
      if (p.kind === 'p') {
        const oid = await this.onOnly(p.oid, p.schema, name);
        await this.fill(p.oid, quoteQualified(p.schema, name), oid);
      } else {
        await this.leaf(p, name);
      }
      await this.ddl(`${this.s.id}-attach`, `ALTER INDEX ${index} ATTACH PARTITION ${quoteQualified(p.schema, name)}`);
    }
  }
}

/**
 * Build a spec's index on a partitioned table: ON ONLY, then per partition concurrently and
 * attached. A unique build that meets duplicates drops everything it built (an attached unique
 * index refuses duplicate writes) and refuses, naming the fix.
 */
export async function createPartitionedIndex(
  client: Client,
  step: string,
  table: Table,
  s: Build,
  options: ExecutorOptions,
): Promise<{ retries: number; changed: boolean }> {
  if ((await indexState(client, s.schema, s.index)) === 'valid') return { retries: 0, changed: false };
  const b = new Builder(client, step, table, s, options);
  try {
    const oid = await b.onOnly(table.oid, s.schema, s.index);
    await b.fill(table.oid, quoteQualified(s.schema, s.index), oid);
  } catch (err) {
    // A lock that stayed busy is worth a re-run that resumes; anything else would fail again, so what
    // was built goes (as a failed concurrent build's INVALID index does), and a unique one always
    // (attached, it refuses duplicate writes).
    const dropAll = s.unique || !(err instanceof LockTimeoutError);
    const dropped = dropAll
      ? await dropPartitionedIndex(client, step, table, s.schema, s.index, options, { created: true }).then(
          () => true,
          () => false,
        )
      : false;
    if (err instanceof LockTimeoutError) throw err;
    if (errorCode(err) === '23505' && s.hint)
      throw new RefusedError(`${step} refused: index ${s.index} cannot be built: ${s.hint} (${errorMessage(err)})`);
    const what = dropped ? "; what it built (the partitioned index and its partitions' indexes) was dropped" : '';
    if (err instanceof StepFailedError)
      throw new StepFailedError(err.step, err.statementId, `${err.pgMessage}${what}`, err.pgCode);
    const code = errorCode(err);
    if (typeof code === 'string') throw new StepFailedError(step, s.id, `${errorMessage(err)}${what}`, code);
    throw err;
  }
  if ((await indexState(client, s.schema, s.index)) !== 'valid') {
    throw new StepFailedError(
      step,
      s.id,
      `index ${s.index} is still INVALID after every partition's index was attached; run the step again`,
    );
  }
  return { retries: b.retries, changed: true };
}

/**
 * Drop a partitioned index (and the partitions' indexes attached to it) in a short transaction
 * under lock_timeout and the hold bounds: PostgreSQL has no DROP INDEX CONCURRENTLY for it, and
 * the drop is catalog only. With `created`, the index is the spec's own: partition indexes a
 * killed build left unattached are dropped too, concurrently.
 */
export async function dropPartitionedIndex(
  client: Client,
  step: string,
  table: Table,
  schema: string,
  index: string,
  options: ExecutorOptions,
  how: { created?: boolean } = {},
): Promise<number> {
  let retries = (
    await runDdlTransaction(
      client,
      step,
      table,
      [{ id: `drop-index-${index}`, sql: `DROP INDEX IF EXISTS ${quoteQualified(schema, index)}` }],
      options,
    )
  ).retries;
  if (!how.created) return retries;
  const leftovers = await client.query<{ oid: string; schema: string }>(
    `SELECT t.relid::int8 AS oid, n.nspname AS schema FROM pg_partition_tree($1::oid::regclass) t JOIN pg_class c ON c.oid = t.relid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE t.relid <> $1::oid`,
    [table.oid],
  );
  for (const p of leftovers.rows) {
    const name = partitionIndexName(index, Number(p.oid));
    const found = await indexOf(client, p.schema, name);
    if (found && found.relid === Number(p.oid))
      retries += await dropIndexConcurrently(client, step, table, p.schema, name, options).catch(
        async () => await dropPartitionedIndex(client, step, table, p.schema, name, options),
      );
  }
  return retries;
}
