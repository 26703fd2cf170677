import { BODY_TAG } from '../expression';
import { quoteIdent } from '../identifiers';
import { ColumnMapping } from '../operations';
import { PENDING_COLUMN, ResolvedSpec } from '../spec';
import { qualifiedFunction } from './plan-names';

/** PL/pgSQL variables are named after the table's columns, so up/down expressions read like SQL over the row (as in pgroll). */
const RESERVED_VARIABLES = new Set(['new', 'old', 'found', 'tg_op', 'tg_name', 'tg_when', 'tg_level', 'tg_relid', 'tg_table_name', 'tg_table_schema', 'tg_nargs', 'tg_argv']);

function anyOf(parts: string[], empty: string): string {
  return parts.length ? parts.join(' OR ') : empty;
}

/** Compared as text: every type has a text form, not every type has `=` (json, xml, point), and text sees 1.0 -> 1.00. */
function changed(column: string): string {
  return `NEW.${quoteIdent(column)}::text IS DISTINCT FROM OLD.${quoteIdent(column)}::text`;
}

function mappingBlock(resolved: ResolvedSpec, m: ColumnMapping, index: number): string {
  const oldCols = m.oldColumns;
  const newCols = m.newColumns;
  const q = quoteIdent;
  const column = (name: string) => resolved.table.columns.find((c) => c.name === name);
  // On INSERT, a side with no columns counts as written: add_column derives its column unless the
  // writer set it; drop_column derives the old column unless the writer set it.
  const insertOld = anyOf(oldCols.map((c) => `NEW.${q(c)} IS NOT NULL`), 'true');
  // A writer of the new side that omits an old column gets the column's default there: that is not
  // a write of the old side. (Defaults that draw from a sequence are not evaluated twice.)
  const insertOldBesidesDefaults = anyOf(
    oldCols.map((c) => {
      const d = column(c)?.defaultExpr;
      return d !== undefined && !/nextval\(/i.test(d)
        ? `(NEW.${q(c)} IS NOT NULL AND NEW.${q(c)}::text IS DISTINCT FROM (${d})::${column(c)!.type}::text)`
        : `NEW.${q(c)} IS NOT NULL`;
    }),
    'true',
  );
  const insertNew = anyOf(newCols.map((c) => `NEW.${q(c.name)} IS NOT NULL`), 'true');
  const updateOld = anyOf(oldCols.map(changed), 'false');
  const updateNew = anyOf(newCols.map((c) => changed(c.name)), 'false');
  const assign = (name: string, expr: string, indent: string) => `${indent}NEW.${q(name)} := (${expr});\n${indent}${q(name)} := NEW.${q(name)};`;
  const withUp = newCols.filter((c) => c.up !== undefined);
  const deriveNew = withUp.map((c) => assign(c.name, c.up!, '    '));
  const fillUnwritten = withUp.map((c) => `        IF NOT (${changed(c.name)}) THEN\n${assign(c.name, c.up!, '          ')}\n        END IF;`);
  const deriveOld = oldCols.filter((c) => m.down[c] !== undefined).map((c) => assign(c, m.down[c], '    '));
  return [
    `  -- ${index + 1}. ${m.label}`,
    `  IF TG_OP = 'INSERT' THEN`,
    `    _tandem_new_written := ${insertNew};`,
    `    IF _tandem_new_written THEN`,
    `      _tandem_old_written := ${insertOldBesidesDefaults};`,
    `    ELSE`,
    `      _tandem_old_written := ${insertOld};`,
    `    END IF;`,
    `  ELSE`,
    `    _tandem_old_written := ${updateOld};`,
    `    _tandem_new_written := ${updateNew};`,
    `    IF OLD.${q(PENDING_COLUMN)} THEN`,
    `      IF NOT _tandem_new_written THEN`,
    `        -- A row the backfill has not reached yet gets its new side from the old one now.`,
    `        _tandem_old_written := true;`,
    `      ELSIF NOT _tandem_old_written THEN`,
    `        -- A write of part of the new side on such a row: the rest of the new side comes from the`,
    `        -- old one first, so deriving the old side below loses nothing.`,
    ...(fillUnwritten.length ? fillUnwritten : ['        NULL;']),
    `      END IF;`,
    `    END IF;`,
    `  END IF;`,
    `  IF _tandem_old_written AND NOT _tandem_new_written THEN`,
    ...(deriveNew.length ? deriveNew : ['    NULL;']),
    `  ELSIF _tandem_new_written AND NOT _tandem_old_written THEN`,
    ...(deriveOld.length ? deriveOld : ['    NULL;']),
    `  END IF;`,
  ].join('\n');
}

/**
 * The sync trigger decides by what the writer changed: old side only -> new columns from `up`;
 * new side only -> old columns from `down`; both (v2 dual-write) -> both kept as written. A write
 * of the old side is never altered. The backfill sets `tandem.backfill` so its own writes pass
 * through. The function keeps the migrator's search_path, so an expression means the same for
 * every writer (the app role's search_path may differ).
 */
export function syncFunctionSql(resolved: ResolvedSpec): string {
  const declared = resolved.table.columns
    .filter((c) => c.name !== PENDING_COLUMN && !RESERVED_VARIABLES.has(c.name.toLowerCase()))
    .map((c) => ({ name: c.name, type: c.type }));
  for (const m of resolved.mappings) for (const c of m.newColumns) declared.push({ name: c.name, type: c.type });
  const body = [
    'DECLARE',
    ...declared.map((c) => `  ${quoteIdent(c.name)} ${c.type} := NEW.${quoteIdent(c.name)};`),
    '  _tandem_old_written boolean;',
    '  _tandem_new_written boolean;',
    'BEGIN',
    `  IF current_setting('tandem.backfill', true) = 'on' THEN RETURN NEW; END IF;`,
    ...resolved.mappings.map((m, i) => mappingBlock(resolved, m, i)),
    `  NEW.${quoteIdent(PENDING_COLUMN)} := false;`,
    '  RETURN NEW;',
    'END',
  ].join('\n');
  return `CREATE FUNCTION ${qualifiedFunction(resolved)}() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS ${BODY_TAG}\n${body}\n${BODY_TAG}`;
}

