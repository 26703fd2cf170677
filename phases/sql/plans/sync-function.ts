import { BODY_TAG } from '../expression';
import { fitIdentifier, quoteIdent, quoteLiteral } from '../identifiers';
import { ColumnMapping } from '../operations';
import { PENDING_COLUMN, ResolvedSpec } from '../spec';
import { EVALUATION_SETTINGS, evaluationSetClauses, UNANALYSED_SETTINGS } from './evaluation-settings';
import { derivedNames, PlanStatement, qualifiedFunction, table } from './plan-names';

/**
 * Bookkeeping columns expand adds next to `_tandem_pending` (true: the backfill has not reached the
 * row; false: synced; NULL: a sync failed, see below). Both are catalog-only (nullable, no default).
 *
 * `_tandem_mark` carries, within ONE UPDATE, which of the operation's UPDATE OF triggers fired
 * (3 bits per operation, XORed against OLD's value, so the stored value means nothing).
 * `_tandem_sync_failed` is NULL unless an `up`/`down` raised on the row's values: then it holds, per
 * operation index, the side the writer wrote (`old` or `new`) and the error, and `_tandem_pending`
 * is NULL. `tandem repair` re-derives such rows from that side.
 */
export const MARK_COLUMN = '_tandem_mark';
export const FAILED_COLUMN = '_tandem_sync_failed';

/** Bits per operation in the mark: two for what the old-side trigger did, one for "the new-side trigger fired". */
const BITS = 3;
export const MAX_OPERATIONS = Math.floor(31 / BITS);

/** What the old-side trigger did, in its two bits: derived the new side from `up`, or left it (the writer wrote it too). */
const A_DERIVED = 1;
const A_LEFT = 2;
const B_FIRED = 4;

const q = quoteIdent;

/** Compared as text: every type has a text form, not every type has `=` (json, xml, point), and text sees 1.0 -> 1.00. */
/**
 * Equal as text, byte for byte: COLLATE "C", because a column may carry a nondeterministic
 * collation (case-insensitive ICU) under which 'alice' and 'ALICE' compare equal.
 */
function same(a: string, b: string): string {
  return `${a}::text COLLATE "C" IS NOT DISTINCT FROM ${b}::text COLLATE "C"`;
}

function allOf(parts: string[], empty: string): string {
  return parts.length ? parts.join(' AND ') : empty;
}

function anyOf(parts: string[], empty: string): string {
  return parts.length ? parts.join(' OR ') : empty;
}

/** Which table columns `up` and `down` read, as analysed against the catalog at expand (defaults: the operation's own columns). */
export function mappingReads(
  resolved: ResolvedSpec,
  index: number,
): { up: readonly string[]; down: readonly string[] } {
  const m = resolved.mappings[index];
  const recorded = resolved.reads?.[index];
  return {
    up: recorded?.up ?? [...m.oldColumns],
    down: recorded?.down ?? m.newColumns.map((c) => c.name),
  };
}

/** Columns whose presence in an UPDATE's SET list makes it a write of the old side (old columns and what `up` reads) / of the new side. */
export function triggerColumns(resolved: ResolvedSpec, index: number): { old: string[]; new: string[] } {
  const m = resolved.mappings[index];
  const reads = mappingReads(resolved, index);
  const newNames = m.newColumns.map((c) => c.name);
  const old = [...new Set([...m.oldColumns, ...reads.up.filter((c) => !newNames.includes(c))])];
  // Only the new columns: a write of another column `down` reads does not recompute the old side,
  // which is the old version's to write (an old-version write of that column would otherwise alter it).
  return { old: m.newColumns.some((c) => c.up !== undefined) || m.oldColumns.length ? old : [], new: newNames };
}

/**
 * The one statement that evaluates expressions in the trigger: SQL over a one-row relation named
 * like the table, holding the row (`NEW` in the trigger, `$1` of the table's row type in the probe).
 * With `#variable_conflict use_column` and no PL/pgSQL variable of our own in scope, a name resolves
 * exactly as in the backfill's `UPDATE table SET c = (expr)`: table columns (even `found`, `new`,
 * `old`), the table's name as qualifier, inner FROM items first in subqueries.
 */
export function evaluationSelect(resolved: ResolvedSpec, exprs: string[], row: string): string {
  return `SELECT ${exprs.map((e) => `(${e})`).join(', ')} FROM (SELECT ${row}.*) AS ${q(resolved.table.name)}`;
}

function upColumns(m: ColumnMapping) {
  return m.newColumns.filter((c) => c.up !== undefined);
}

function downColumns(m: ColumnMapping) {
  return m.oldColumns.filter((c) => m.down[c] !== undefined);
}

/** The evaluation statements the trigger runs, for the probe: id and SQL with `$1` for the row. */
export function triggerStatements(resolved: ResolvedSpec): { id: string; sql: string }[] {
  const out: { id: string; sql: string }[] = [];
  resolved.mappings.forEach((m, i) => {
    const ups = upColumns(m);
    if (ups.length)
      out.push({
        id: `the sync trigger's up for ${m.label}`,
        sql: evaluationSelect(
          resolved,
          ups.map((c) => c.up!),
          '$1',
        ),
      });
    const downs = downColumns(m);
    if (downs.length)
      out.push({
        id: `the sync trigger's down for ${m.label}`,
        sql: evaluationSelect(
          resolved,
          downs.map((c) => m.down[c]),
          '$1',
        ),
      });
    const extra = triggerColumns(resolved, i).old.filter((c) => !m.oldColumns.includes(c));
    if (extra.length && ups.length)
      out.push({
        id: `the sync trigger's consistency check for ${m.label}`,
        sql: evaluationSelect(resolved, [`ROW(${ups.map((c) => `(${c.up})::text`).join(', ')})::text`], '$1'),
      });
  });
  return out;
}

/** The key of ResolvedSpec.directAssignments: the column assigned and the expression. */
export function directAssignmentKey(target: string, expr: string): string {
  return JSON.stringify([target, expr]);
}

/**
 * The statements that compute `targets` from `exprs` into NEW: one assignment per column where
 * expand found each expression's form over NEW (a PL/pgSQL expression, no query) and none of them
 * reads a column assigned here (the SELECT computes every value from the row as the writer left
 * it; assignments one after another must not see each other's results); otherwise one SELECT ...
 * INTO over the row, under the table's name.
 */
function evaluation(
  resolved: ResolvedSpec,
  index: number,
  side: 'old' | 'new',
  targets: string[],
  exprs: string[],
): string[] {
  const forms = targets.map((t, i) => resolved.directAssignments?.[directAssignmentKey(t, exprs[i])]);
  const reads = resolved.reads?.[index]?.[side === 'old' ? 'up' : 'down'];
  const direct = forms.every((f) => f !== undefined) && reads !== undefined && !reads.some((r) => targets.includes(r));
  if (direct) return targets.map((t, i) => `NEW.${q(t)} := ${forms[i]};`);
  return [`${evaluationSelect(resolved, exprs, 'NEW')} INTO ${targets.map((t) => `NEW.${q(t)}`).join(', ')};`];
}

/** The bench measures the function without the EXCEPTION guard too; nothing else turns it off. */
let withGuard = true;

/**
 * SELECT ... INTO NEW.a, NEW.b, guarded: a raise never fails the write, it flags the row (side = who
 * wrote). An `up` that gives NULL for a new column that becomes NOT NULL counts as a raise: the row
 * is flagged instead of Tandem's NOT NULL check refusing the old version's write.
 */
function guarded(
  resolved: ResolvedSpec,
  index: number,
  side: 'old' | 'new',
  targets: string[],
  exprs: string[],
  indent: string,
): string[] {
  if (!targets.length) return [`${indent}NULL;`];
  const evaluate = evaluation(resolved, index, side, targets, exprs);
  if (!withGuard) return evaluate.map((l) => `${indent}${l}`);
  const key = quoteLiteral(String(index));
  const notNull =
    side === 'old' ? resolved.mappings[index].newColumns.filter((c) => c.notNull && targets.includes(c.name)) : [];
  return [
    `${indent}BEGIN`,
    ...evaluate.map((l) => `${indent}  ${l}`),
    ...notNull.map(
      (c) =>
        `${indent}  IF NEW.${q(c.name)} IS NULL THEN RAISE EXCEPTION USING ERRCODE = 'not_null_violation', MESSAGE = ${quoteLiteral(`up gave NULL for ${c.name}, which is NOT NULL`)}; END IF;`,
    ),
    `${indent}  IF NEW.${q(FAILED_COLUMN)} ? ${key} THEN`,
    `${indent}    NEW.${q(FAILED_COLUMN)} := nullif(NEW.${q(FAILED_COLUMN)} - ${key}, '{}');`,
    `${indent}    IF NEW.${q(FAILED_COLUMN)} IS NULL AND OLD_PENDING_NOT_TRUE THEN NEW.${q(PENDING_COLUMN)} := false; END IF;`,
    `${indent}  END IF;`,
    `${indent}EXCEPTION WHEN OTHERS THEN`,
    `${indent}  NEW.${q(FAILED_COLUMN)} := coalesce(NEW.${q(FAILED_COLUMN)}, '{}') || jsonb_build_object(${key}, jsonb_build_object('side', '${side}', 'error', SQLERRM, 'sqlstate', SQLSTATE));`,
    `${indent}  NEW.${q(PENDING_COLUMN)} := NULL;`,
    `${indent}END;`,
  ];
}

/** The `up` of each of `ups` into its column, guarded (the writer wrote the old side). */
function guardedUps(resolved: ResolvedSpec, index: number, ups: NewColumnUps, indent: string): string[] {
  return guarded(
    resolved,
    index,
    'old',
    ups.map((c) => c.name),
    ups.map((c) => c.up!),
    indent,
  );
}

/** The `down` of each of `downs` (old columns) into it, guarded (the writer wrote the new side). */
function guardedDowns(
  resolved: ResolvedSpec,
  index: number,
  m: ColumnMapping,
  downs: string[],
  indent: string,
): string[] {
  return guarded(
    resolved,
    index,
    'new',
    downs,
    downs.map((c) => m.down[c]),
    indent,
  );
}

type NewColumnUps = ReturnType<typeof upColumns>;

function shift(bits: number, index: number): number {
  return bits << (BITS * index);
}

function markBits(row: 'NEW' | 'OLD'): string {
  return `coalesce(${row}.${q(MARK_COLUMN)}, 0)`;
}

/** The bits of operation `index` that changed in this UPDATE (which of its triggers fired, and how). */
function firedBits(index: number): string {
  return `(((${markBits('NEW')} # ${markBits('OLD')}) >> ${BITS * index}) & 7)`;
}

function insertBlock(resolved: ResolvedSpec, m: ColumnMapping, index: number): string[] {
  const column = (name: string) => resolved.table.columns.find((c) => c.name === name);
  const ups = upColumns(m);
  const downs = downColumns(m);
  // INSERT has no target list: a new column counts as written when it is not NULL.
  const newWritten = anyOf(
    m.newColumns.map((c) => `NEW.${q(c.name)} IS NOT NULL`),
    'true',
  );
  // An old column holding its own (non-volatile) default was not written; a volatile default
  // (gen_random_uuid(), clock_timestamp(), nextval) cannot be told from a write, so when the new
  // side is written the old column comes from `down`, never from a second evaluation of the default.
  const oldWritten = anyOf(
    m.oldColumns.map((c) => {
      const col = column(c);
      // An identity's value (volatileDefault) is the sequence's, not the writer's.
      if (col?.volatileDefault) return 'false';
      if (col?.defaultExpr === undefined) return `NEW.${q(c)} IS NOT NULL`;
      return `(NEW.${q(c)} IS NOT NULL AND NEW.${q(c)}::text COLLATE "C" IS DISTINCT FROM (${col.defaultExpr})::${col.type}::text COLLATE "C")`;
    }),
    'false',
  );
  const lines = [`  -- ${index + 1}. ${m.label}`];
  if (m.newColumns.length === 0) {
    // drop_column: the old column comes from `down` unless the writer set it.
    lines.push(`  IF NOT (${oldWritten}) THEN`, ...guardedDowns(resolved, index, m, downs, '    '), `  END IF;`);
    return lines;
  }
  lines.push(`  IF NOT (${newWritten}) THEN`);
  // Nothing of the new side written (a v1 insert, NULLs included): the new side from `up`, as the backfill would.
  lines.push(...guardedUps(resolved, index, ups, '    '));
  if (downs.length) {
    lines.push(`  ELSIF NOT (${oldWritten}) THEN`);
    lines.push(...guardedDowns(resolved, index, m, downs, '    '));
  }
  lines.push(`  END IF;`);
  return lines;
}

/** Old-side trigger of one operation: fires when the UPDATE's SET list names an old column or a column `up` reads. */
function oldSideBlock(resolved: ResolvedSpec, m: ColumnMapping, index: number): string[] {
  const ups = upColumns(m);
  const cols = triggerColumns(resolved, index);
  const extra = cols.old.filter((c) => !m.oldColumns.includes(c));
  const newUnchanged = allOf(
    m.newColumns.map((c) => same(`NEW.${q(c.name)}`, `OLD.${q(c.name)}`)),
    'true',
  );
  const oldUnchanged = allOf(
    m.oldColumns.map((c) => same(`NEW.${q(c)}`, `OLD.${q(c)}`)),
    'true',
  );
  const lines = [`    -- ${index + 1}. ${m.label}: the old side (or a column up reads) is in the SET list`];
  lines.push(`    IF NOT (${newUnchanged}) THEN`);
  lines.push(`      _tandem_did := ${A_LEFT}; -- the writer changed the new side too: it wrote both, both kept`);
  if (extra.length && ups.length) {
    // Only columns `up` reads changed, on a row whose new side the new version wrote last (it is not
    // up(old)): keep what the new version wrote rather than recompute it.
    lines.push(`    ELSIF OLD.${q(PENDING_COLUMN)} IS FALSE AND (${oldUnchanged}) THEN`);
    lines.push(`      BEGIN`);
    lines.push(
      `        ${evaluationSelect(resolved, [`ROW(${ups.map((c) => `(${c.up})::text`).join(', ')})::text`], 'OLD')} INTO _tandem_text;`,
    );
    lines.push(`      EXCEPTION WHEN OTHERS THEN _tandem_text := NULL;`);
    lines.push(`      END;`);
    lines.push(
      `      IF _tandem_text IS NOT DISTINCT FROM ROW(${ups.map((c) => `OLD.${q(c.name)}::text`).join(', ')})::text THEN`,
    );
    lines.push(...guardedUps(resolved, index, ups, '        '));
    lines.push(`        _tandem_did := ${A_DERIVED};`);
    lines.push(`      ELSE`);
    lines.push(`        _tandem_did := ${A_LEFT};`);
    lines.push(`      END IF;`);
  }
  lines.push(`    ELSE`);
  lines.push(...guardedUps(resolved, index, ups, '      '));
  lines.push(`      _tandem_did := ${A_DERIVED};`);
  lines.push(`    END IF;`);
  lines.push(`    NEW.${q(MARK_COLUMN)} := coalesce(NEW.${q(MARK_COLUMN)}, 0) # (_tandem_did << ${BITS * index});`);
  return lines;
}

/** New-side trigger of one operation: fires when the SET list names a new column (or a column `down` reads). */
function newSideBlock(resolved: ResolvedSpec, m: ColumnMapping, index: number): string[] {
  const ups = upColumns(m);
  const downs = downColumns(m);
  const key = quoteLiteral(String(index));
  const lines = [`    -- ${index + 1}. ${m.label}: the new side is in the SET list`];
  lines.push(`    _tandem_did := ${firedBits(index)} & 3;`);
  lines.push(`    IF _tandem_did <> 0 THEN`);
  lines.push(`      -- The old-side trigger fired too: the writer wrote both sides, both are kept as written.`);
  if (m.newColumns.length) {
    lines.push(`      IF _tandem_did = ${A_DERIVED} THEN`);
    lines.push(`        -- It derived the new side, which the writer had set to its current values: put them back.`);
    for (const c of m.newColumns) lines.push(`        NEW.${q(c.name)} := OLD.${q(c.name)};`);
    lines.push(`      END IF;`);
  }
  lines.push(`      IF NEW.${q(FAILED_COLUMN)} ? ${key} THEN`);
  lines.push(`        NEW.${q(FAILED_COLUMN)} := nullif(NEW.${q(FAILED_COLUMN)} - ${key}, '{}');`);
  lines.push(
    `        IF NEW.${q(FAILED_COLUMN)} IS NULL AND OLD_PENDING_NOT_TRUE THEN NEW.${q(PENDING_COLUMN)} := false; END IF;`,
  );
  lines.push(`      END IF;`);
  lines.push(`    ELSE`);
  if (m.newColumns.length > 1 && ups.length) {
    // A write of part of the new side on a row the backfill has not reached: the rest of the new
    // side comes from the old one first (a column left at its value counts as not written).
    lines.push(`      IF OLD.${q(PENDING_COLUMN)} IS TRUE THEN`);
    for (const c of ups) {
      lines.push(`        IF ${same(`NEW.${q(c.name)}`, `OLD.${q(c.name)}`)} THEN`);
      lines.push(...guarded(resolved, index, 'old', [c.name], [c.up!], '          '));
      lines.push(`        END IF;`);
    }
    lines.push(`      END IF;`);
  }
  lines.push(...guardedDowns(resolved, index, m, downs, '      '));
  lines.push(`    END IF;`);
  lines.push(`    NEW.${q(MARK_COLUMN)} := coalesce(NEW.${q(MARK_COLUMN)}, 0) # ${shift(B_FIRED, index)};`);
  return lines;
}

/** Rows the backfill has not reached: operations none of whose triggers fired get their new side from `up`, as the backfill would. */
function pendingBlock(resolved: ResolvedSpec): string[] {
  const lines: string[] = [];
  resolved.mappings.forEach((m, i) => {
    const ups = upColumns(m);
    if (!ups.length) return;
    lines.push(`    IF ${firedBits(i)} = 0 THEN`);
    lines.push(...guardedUps(resolved, i, ups, '      '));
    lines.push(`    END IF;`);
  });
  lines.push(`    NEW.${q(PENDING_COLUMN)} := CASE WHEN NEW.${q(FAILED_COLUMN)} IS NULL THEN false END;`);
  return lines;
}

export interface SyncTrigger {
  readonly name: string;
  /** INSERT, or UPDATE OF these columns, or every UPDATE of a pending row. */
  readonly event: string;
  /** The WHEN condition, or none: the function itself then lets the backfill's and repair's writes through. */
  readonly when?: string;
  readonly arg: string;
}

/**
 * The backfill and repair write with `tandem.backfill` on, and the sync triggers let those writes
 * through. The new-side and pending triggers say so in their WHEN condition: the backfill's batches
 * fire them (it writes the new side, of pending rows), and a WHEN costs once per statement, not a
 * function call per row. The INSERT and old-side triggers, which an app's v1 write fires one row
 * per statement and the backfill never does, test it first thing in the function instead: a WHEN
 * is prepared again for every statement that fires it, which costs a single-row write more than
 * the test inside the function (see docs/performance.md).
 */
const NOT_BACKFILL = `current_setting('tandem.backfill', true) IS DISTINCT FROM 'on'`;

/**
 * The sync triggers, in the order PostgreSQL fires them (name order, after the app's own BEFORE
 * triggers thanks to `zz_`): the INSERT trigger (named like the migration), then per operation an
 * `UPDATE OF <old side>` and an `UPDATE OF <new side>` trigger (PostgreSQL fires those when the
 * column is in the SET list, whatever the value), then one for rows still pending.
 */
export function syncTriggers(resolved: ResolvedSpec): SyncTrigger[] {
  const base = derivedNames(resolved).trigger;
  const out: SyncTrigger[] = [{ name: base, event: 'INSERT', arg: 'insert' }];
  resolved.mappings.forEach((m, i) => {
    const cols = triggerColumns(resolved, i);
    const n = String(i).padStart(2, '0');
    if (cols.old.length)
      out.push({
        name: fitIdentifier(`${base}_${n}a`),
        event: `UPDATE OF ${cols.old.map(q).join(', ')}`,
        arg: `old${i}`,
      });
    if (cols.new.length)
      out.push({
        name: fitIdentifier(`${base}_${n}b`),
        event: `UPDATE OF ${cols.new.map(q).join(', ')}`,
        when: NOT_BACKFILL,
        arg: `new${i}`,
      });
  });
  out.push({
    name: fitIdentifier(`${base}_zp`),
    event: 'UPDATE',
    when: `OLD.${q(PENDING_COLUMN)} IS TRUE AND ${NOT_BACKFILL}`,
    arg: 'pending',
  });
  return out;
}

export function createTriggerSql(resolved: ResolvedSpec, t: SyncTrigger): string {
  return `CREATE TRIGGER ${q(t.name)} BEFORE ${t.event} ON ${table(resolved)} FOR EACH ROW ${t.when ? `WHEN (${t.when}) ` : ''}EXECUTE FUNCTION ${qualifiedFunction(resolved)}(${quoteLiteral(t.arg)})`;
}

/**
 * The sync function, one for all the triggers (TG_ARGV[0] says which). It decides by what the
 * writer WROTE: for UPDATE, by the SET list (UPDATE OF triggers fire for a column in it even if the
 * value is unchanged); for INSERT, which has no target list, by non-NULL values (an old column holding
 * its non-volatile default counts as not written). Old side only -> new columns from `up`; new side
 * only -> old columns from `down`; both (v2) -> both kept as written. A write of the old side is
 * never altered. An `up`/`down` that raises never fails the write: the row is flagged (see
 * FAILED_COLUMN). It evaluates under the settings every executor session has (TimeZone, DateStyle,
 * ..., and the expand session's search_path; see evaluation-settings.ts), not the app session's:
 * for one write the trigger gives what the backfill, verify and repair give.
 */
export function syncFunctionStatements(resolved: ResolvedSpec, options: { guard?: boolean } = {}): PlanStatement[] {
  withGuard = options.guard ?? true;
  try {
    return syncFunctionDefinitions(resolved);
  } finally {
    withGuard = true;
  }
}

/** The same statements as one SQL text (what the bench's variants edit). */
export function syncFunctionSql(resolved: ResolvedSpec, options: { guard?: boolean } = {}): string {
  return syncFunctionStatements(resolved, options)
    .map((st) => st.sql)
    .join(';\n');
}

function syncFunctionBody(resolved: ResolvedSpec): string[] {
  const oldNotTrue = `OLD.${q(PENDING_COLUMN)} IS NOT TRUE`;
  const sub = (lines: string[], inInsert: boolean) =>
    lines.map((l) => l.replace(/OLD_PENDING_NOT_TRUE/g, inInsert ? 'true' : oldNotTrue));
  const body = [
    '#variable_conflict use_column',
    // Qualified: PL/pgSQL resolves these types when it compiles the function in a session, before
    // any pin is in place, and a temporary table named `text` would otherwise be the type.
    'DECLARE',
    '  _tandem_did pg_catalog.int4;',
    '  _tandem_text pg_catalog.text;',
    'BEGIN',
    // Qualified: without a SET clause these run under the app session's search_path.
    `  IF pg_catalog.current_setting('tandem.backfill', true) OPERATOR(pg_catalog.=) 'on' THEN RETURN NEW; END IF; -- the backfill's and repair's writes (see NOT_BACKFILL)`,
    `  IF TG_OP = 'INSERT' THEN`,
    ...sub(
      resolved.mappings.flatMap((m, i) => insertBlock(resolved, m, i)),
      true,
    ).map((l) => '  ' + l),
    `    IF NEW.${q(FAILED_COLUMN)} IS NULL THEN NEW.${q(PENDING_COLUMN)} := false; ELSE NEW.${q(PENDING_COLUMN)} := NULL; END IF;`,
    `    RETURN NEW;`,
    `  END IF;`,
    `  CASE TG_ARGV[0]`,
  ];
  resolved.mappings.forEach((m, i) => {
    const cols = triggerColumns(resolved, i);
    if (cols.old.length) body.push(`  WHEN 'old${i}' THEN`, ...sub(oldSideBlock(resolved, m, i), false));
    if (cols.new.length) body.push(`  WHEN 'new${i}' THEN`, ...sub(newSideBlock(resolved, m, i), false));
  });
  body.push(`  WHEN 'pending' THEN`, ...sub(pendingBlock(resolved), false));
  body.push(`  END CASE;`, '  RETURN NEW;', 'END');
  return body;
}

/**
 * The sync function. A SET clause costs every call (docs/performance.md): where only search_path
 * needs pinning (settingsIndependent) and expand recorded the schemas it resolved names in
 * (pathSchemas) and the path it pinned (pinnedPath), the function has no SET clause. It first
 * compares the app session's `current_schemas(true)` and the two settings that change how an
 * expression parses or what an array constant gives with expand's; when all are equal every name
 * resolves and every value comes as under the pins, and it runs its body. Otherwise it sets them
 * itself (`set_config(..., true)`) and sets back what the session had before each RETURN; a
 * statement that fails ends its transaction (or savepoint), which sets them back too. The
 * preamble is schema-qualified, so no function or operator on the app's path can answer it. Every
 * call is by the trigger in the app's own session: no other privilege is needed.
 */
function syncFunctionDefinitions(resolved: ResolvedSpec): PlanStatement[] {
  const body = syncFunctionBody(resolved);
  const text = body.join('\n');
  const pins = evaluationSetClauses({
    searchPathOnly: resolved.settingsIndependent === true,
    backslash: text.includes('\\'),
  });
  const fn = qualifiedFunction(resolved);
  const { pathSchemas, pinnedPath } = resolved;
  const unpinned =
    resolved.settingsIndependent === true &&
    pathSchemas !== undefined &&
    pinnedPath !== undefined &&
    pins === FEWEST_PINS;
  const definition = (pinClauses: string, lines: string[]) => ({
    id: 'sync-function',
    sql: `CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql ${pinClauses} AS ${BODY_TAG}\n${lines.join('\n')}\n${BODY_TAG}`,
  });
  if (!unpinned) return [definition(pins, body)];
  return [definition('', unpinnedBody(body, pathSchemas, pinnedPath))];
}

/** The settings the unpinned function checks and, where the session differs, sets for the call. */
function unpinnedSettings(pinnedPath: string): (readonly [string, string])[] {
  return [['search_path', pinnedPath], ...EVALUATION_SETTINGS.filter(([name]) => UNANALYSED_SETTINGS.includes(name))];
}

function unpinnedBody(body: string[], schemas: readonly string[], pinnedPath: string): string[] {
  const settings = unpinnedSettings(pinnedPath);
  const same = [
    `pg_catalog.current_schemas(true) OPERATOR(pg_catalog.=) ARRAY[${schemas.map(quoteLiteral).join(', ')}]::pg_catalog.name[]`,
    ...settings
      .slice(1)
      .map(([n, v]) => `pg_catalog.current_setting(${quoteLiteral(n)}) OPERATOR(pg_catalog.=) ${quoteLiteral(v)}`),
  ].join(' AND ');
  const set = settings.map(
    ([n, v], i) =>
      `    _tandem_saved[${i + 1}] := pg_catalog.current_setting(${quoteLiteral(n)}); PERFORM pg_catalog.set_config(${quoteLiteral(n)}, ${quoteLiteral(v)}, true);`,
  );
  const restore = `IF _tandem_saved IS NOT NULL THEN ${settings
    .map(([n], i) => `PERFORM pg_catalog.set_config(${quoteLiteral(n)}, _tandem_saved[${i + 1}], true);`)
    .join(' ')} END IF; `;
  const declare = body.indexOf('DECLARE') + 1;
  const backfill = body.findIndex((l) => l.includes(`current_setting('tandem.backfill', true)`));
  return [
    ...body.slice(0, declare),
    '  _tandem_saved pg_catalog.text[];',
    ...body.slice(declare, backfill + 1),
    `  IF NOT coalesce(${same}, false) THEN -- not as expand resolved names and parsed: under its settings for this call`,
    ...set,
    `  END IF;`,
    ...body.slice(backfill + 1).map((l) => l.replace(/\bRETURN NEW;/, `${restore}RETURN NEW;`)),
  ];
}

/** The pins of a settings-independent function with no backslash in its body: search_path and the unanalysed settings. */
const FEWEST_PINS = evaluationSetClauses({ searchPathOnly: true });
