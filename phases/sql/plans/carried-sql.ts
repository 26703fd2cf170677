import { createHash } from 'crypto';
import { CarriedProperties, NewColumn, QualifiedName } from '../operations';
import { fitIdentifier, quoteIdent, quoteLiteral, quoteQualified } from '../identifiers';
import { ResolvedSpec } from '../spec';
import { PlanStatement, table } from './plan-names';

/**
 * The SQL that gives a new column what it carries over from the column it replaces
 * (operations/carried-properties.ts). The values come from the catalog through the recorded state,
 * so each is checked again here before it reaches SQL: names are quoted, words and numbers must
 * look like words and numbers.
 */
const STORAGE: Record<string, string> = { p: 'PLAIN', e: 'EXTERNAL', m: 'MAIN', x: 'EXTENDED' };
/** attcompression's letters. */
const COMPRESSION: Record<string, string> = { p: 'pglz', l: 'lz4' };
const WORD = /^[a-z][a-z0-9_]*$/;
const INTEGER = /^-?\d{1,20}$/;
const PRIVILEGES = new Set(['SELECT', 'INSERT', 'UPDATE', 'REFERENCES']);

function carriedColumns(resolved: ResolvedSpec): (NewColumn & { carried: CarriedProperties })[] {
  return resolved.mappings
    .flatMap((m) => m.newColumns)
    .filter((c): c is NewColumn & { carried: CarriedProperties } => c.carried !== undefined);
}

function qualified(n: QualifiedName): string {
  return quoteQualified(String(n.schema), String(n.name));
}

function checked(pattern: RegExp, value: unknown, what: string): string {
  const text = String(value);
  if (!pattern.test(text)) throw new Error(`the recorded ${what} ${JSON.stringify(value)} is not valid`);
  return text;
}

/** The COLLATE clause of ADD COLUMN. */
export function collateClause(c: NewColumn): string {
  return c.carried?.collation ? ` COLLATE ${qualified(c.carried.collation)}` : '';
}

/** In expand's transaction, after ADD COLUMN: storage, compression, statistics, options, comment, column privileges. */
export function carriedExpandPlan(resolved: ResolvedSpec): PlanStatement[] {
  const t = table(resolved);
  const out: PlanStatement[] = [];
  for (const c of carriedColumns(resolved)) {
    const p = c.carried;
    const col = quoteIdent(c.name);
    const alters: string[] = [];
    if (p.storage !== undefined)
      alters.push(`ALTER COLUMN ${col} SET STORAGE ${STORAGE[checked(/^[pemx]$/, p.storage, 'storage')]}`);
    if (p.compression !== undefined)
      alters.push(
        `ALTER COLUMN ${col} SET COMPRESSION ${COMPRESSION[checked(/^[pl]$/, p.compression, 'compression')]}`,
      );
    if (p.statistics !== undefined)
      alters.push(`ALTER COLUMN ${col} SET STATISTICS ${checked(INTEGER, p.statistics, 'statistics target')}`);
    if (p.options?.length) {
      const opts = p.options.map((o) => {
        const [key, ...rest] = String(o).split('=');
        return `${checked(WORD, key, 'column option')} = ${quoteLiteral(rest.join('='))}`;
      });
      alters.push(`ALTER COLUMN ${col} SET (${opts.join(', ')})`);
    }
    if (alters.length) out.push({ id: `carry-attributes-${c.name}`, sql: `ALTER TABLE ${t} ${alters.join(', ')}` });
    if (p.comment !== undefined)
      out.push({
        id: `carry-comment-${c.name}`,
        sql: `COMMENT ON COLUMN ${t}.${col} IS ${quoteLiteral(String(p.comment))}`,
      });
    for (const g of p.grants ?? []) {
      const privilege = String(g.privilege);
      if (!PRIVILEGES.has(privilege))
        throw new Error(`the recorded column privilege ${JSON.stringify(g.privilege)} is not valid`);
      const grantee = g.grantee === null ? 'PUBLIC' : quoteIdent(String(g.grantee));
      out.push({
        id: `carry-grant-${c.name}`,
        sql: `GRANT ${privilege} (${col}) ON ${t} TO ${grantee}${g.grantable === true ? ' WITH GRANT OPTION' : ''}`,
      });
    }
  }
  return out;
}

const BIGINT = /^(?:pg_catalog\.)?(?:bigint|int8)$/i;

/** change_type of a column that was not bigint to bigint. */
function widenedToBigint(resolved: ResolvedSpec, c: NewColumn & { carried: CarriedProperties }): boolean {
  const old = resolved.table.columns.find((x) => x.name === c.carried.from);
  return BIGINT.test(c.type.trim()) && old !== undefined && old.type !== 'bigint';
}

/** The identity sequence's name while both exist (it takes the old one's name once that is dropped). */
function interimSequence(resolved: ResolvedSpec, c: NewColumn): string {
  const hash = createHash('sha256').update(`${resolved.spec.name}:${c.name}`).digest('hex').slice(0, 10);
  return fitIdentifier(`_tandem_seq_${resolved.spec.name.replace(/-/g, '_')}_${hash}`);
}

/** The old identity sequence's name from the moment contract takes it (its lock) until the drop. */
function retiredSequence(resolved: ResolvedSpec, c: NewColumn): string {
  const hash = createHash('sha256').update(`${resolved.spec.name}:${c.name}:retired`).digest('hex').slice(0, 10);
  return fitIdentifier(`_tandem_oldseq_${resolved.spec.name.replace(/-/g, '_')}_${hash}`);
}

/**
 * In contract's transaction (ACCESS EXCLUSIVE held, so no insert draws from either sequence), after
 * SET NOT NULL and before the old columns go: the identity is added to the new column with the old
 * sequence's options, set to where the old one stands, and an owned sequence (serial) is re-owned.
 * The table lock does not stop nextval() on the old sequence (an app that allocates its ids itself,
 * another table's default): the old sequence is renamed first, which takes its ACCESS EXCLUSIVE lock
 * (waiting, under lock_timeout, for transactions that drew from it) and holds it to the drop, so no
 * value is drawn from it after its position is copied.
 */
export function carriedContractPlan(resolved: ResolvedSpec): PlanStatement[] {
  const t = table(resolved);
  const out: PlanStatement[] = [];
  for (const c of carriedColumns(resolved)) {
    const p = c.carried;
    if (p.ownedSequence)
      out.push({
        id: `carry-owned-sequence-${c.name}`,
        sql: `ALTER SEQUENCE ${qualified(p.ownedSequence)} OWNED BY ${t}.${quoteIdent(c.name)}`,
      });
    if (p.ownedSequence && widenedToBigint(resolved, c)) {
      // A serial widened to bigint: its sequence is `AS integer` and would stop at 2^31 - 1, the
      // very limit the change is for. AS bigint lifts a maximum that was integer's own (a custom one stays).
      out.push({
        id: `carry-owned-sequence-type-${c.name}`,
        sql: `ALTER SEQUENCE ${qualified(p.ownedSequence)} AS bigint`,
      });
    }
    const id = p.identity;
    if (!id) continue;
    const kind = checked(/^[ad]$/, id.kind, 'identity kind') === 'a' ? 'ALWAYS' : 'BY DEFAULT';
    const interim = quoteQualified(String(id.sequence.schema), interimSequence(resolved, c));
    const retired = quoteQualified(String(id.sequence.schema), retiredSequence(resolved, c));
    out.push({
      id: `carry-identity-lock-${c.name}`,
      sql: `ALTER SEQUENCE ${qualified(id.sequence)} RENAME TO ${quoteIdent(retiredSequence(resolved, c))}`,
    });
    const options = [
      `SEQUENCE NAME ${interim}`,
      `INCREMENT BY ${checked(INTEGER, id.increment, 'sequence increment')}`,
      // A change of type keeps the new type's own bounds (int -> bigint must not stop at 2^31).
      ...(id.sameType
        ? [
            `MINVALUE ${checked(INTEGER, id.min, 'sequence minimum')}`,
            `MAXVALUE ${checked(INTEGER, id.max, 'sequence maximum')}`,
          ]
        : []),
      `START WITH ${checked(INTEGER, id.start, 'sequence start')}`,
      `CACHE ${checked(INTEGER, id.cache, 'sequence cache')}`,
      id.cycle === true ? 'CYCLE' : 'NO CYCLE',
    ];
    out.push({
      id: `carry-identity-${c.name}`,
      sql: `ALTER TABLE ${t} ALTER COLUMN ${quoteIdent(c.name)} ADD GENERATED ${kind} AS IDENTITY (${options.join(' ')})`,
    });
    out.push({
      id: `carry-identity-position-${c.name}`,
      sql: `SELECT setval('${interim.replace(/'/g, "''")}'::regclass, last_value, is_called) FROM ${retired}`,
    });
    out.push({ id: `carry-identity-grants-${c.name}`, sql: copySequenceGrantsSql(retired, interim) });
  }
  return out;
}

/**
 * The old sequence's privileges, granted again on the new one (the owner's own aside): an insert
 * needs none, but currval() and lastval() (a driver's "last insert id") need USAGE or SELECT.
 */
function copySequenceGrantsSql(from: string, to: string): string {
  return [
    'DO $tandem_grants$',
    'DECLARE g record;',
    'BEGIN',
    "  FOR g IN SELECT e.privilege_type AS privilege, e.is_grantable AS grantable, CASE WHEN e.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END AS grantee",
    '             FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) e LEFT JOIN pg_roles r ON r.oid = e.grantee',
    `            WHERE c.oid = ${quoteLiteral(from)}::regclass AND e.grantee <> c.relowner`,
    '  LOOP',
    `    EXECUTE format('GRANT %s ON SEQUENCE %s TO %s%s', g.privilege, ${quoteLiteral(to)}, g.grantee, CASE WHEN g.grantable THEN ' WITH GRANT OPTION' ELSE '' END);`,
    '  END LOOP;',
    'END',
    '$tandem_grants$',
  ].join('\n');
}

/** In contract's transaction, after the old columns (and their identity sequences) are dropped: the sequence takes the old name. */
export function carriedAfterDropPlan(resolved: ResolvedSpec): PlanStatement[] {
  return carriedColumns(resolved)
    .filter((c) => c.carried.identity)
    .map((c) => {
      const id = c.carried.identity!;
      return {
        id: `carry-identity-name-${c.name}`,
        sql: `ALTER SEQUENCE ${quoteQualified(String(id.sequence.schema), interimSequence(resolved, c))} RENAME TO ${quoteIdent(String(id.sequence.name))}`,
      };
    });
}

/** Sequences contract keeps (re-owned by the new column): they do not block the drop of the old one. */
export function carriedSequences(resolved: ResolvedSpec): QualifiedName[] {
  return carriedColumns(resolved).flatMap((c) => (c.carried.ownedSequence ? [c.carried.ownedSequence] : []));
}
