import { Client } from 'pg';

/**
 * Whether an expression's value can depend on the evaluation settings other than search_path
 * (TimeZone, DateStyle, IntervalStyle, extra_float_digits, bytea_output, xmloption, lc_monetary,
 * lc_numeric, lc_time; see phases/sql/plans/evaluation-settings.ts), judged from the tree
 * PostgreSQL parsed it into (a throwaway view's pg_rewrite.ev_action). Deliberately narrow: only
 * the node kinds below, only values of the built-in types below (whose text forms and input
 * parsing read none of those settings), and only built-in functions and operators that are
 * immutable (or stable only through their arguments' output) and not among the few that read a
 * setting themselves. Anything else (a domain, a composite, a date, a float, a
 * subquery, a user function) counts as depending on them.
 */
const NODES = new Set([
  'QUERY',
  'RANGETBLENTRY',
  'ALIAS',
  'FROMEXPR',
  'RANGETBLREF',
  'TARGETENTRY',
  'VAR',
  'CONST',
  'FUNCEXPR',
  'OPEXPR',
  'DISTINCTEXPR',
  'NULLIFEXPR',
  'SCALARARRAYOPEXPR',
  'BOOLEXPR',
  'CASEEXPR',
  'CASEWHEN',
  'CASETESTEXPR',
  'COALESCEEXPR',
  'MINMAXEXPR',
  'NULLTEST',
  'BOOLEANTEST',
  'RELABELTYPE',
  'COERCEVIAIO',
  'COLLATEEXPR',
  'ARRAYEXPR',
]);

/**
 * bool, "char", name, int8, int2, int4, text, oid, json, unknown, bpchar, varchar, numeric, uuid,
 * jsonb, and arrays of them: their output and input functions read no setting.
 */
export const SETTINGS_FREE_TYPES = new Set([
  16, 18, 19, 20, 21, 23, 25, 26, 114, 705, 1042, 1043, 1700, 2950, 3802, 1000, 1002, 1003, 1016, 1005, 1007, 1009,
  1028, 199, 1014, 1015, 1231, 2951, 3807,
]);

/** Built-in functions over such types that read a setting all the same. */
const READS_A_SETTING = [
  'current_setting',
  'set_config',
  'to_char',
  'to_number',
  'to_date',
  'to_timestamp',
  'timeofday',
];

/**
 * Built-in functions PostgreSQL marks stable only because they call their arguments' output
 * functions (whose types are judged above). Every other function must be immutable: a stable or
 * volatile built-in over text can read a setting itself (xml_is_well_formed reads xmloption,
 * pg_get_viewdef prints constants under DateStyle and extra_float_digits), while PostgreSQL marks
 * a function immutable only when no setting changes its result (float output aside, whose types
 * are not allowed).
 */
const STABLE_THROUGH_ARGUMENTS = [
  'concat',
  'concat_ws',
  'format',
  'textanycat',
  'anytextcat',
  'quote_literal',
  'quote_nullable',
  'to_json',
  'to_jsonb',
  'json_build_object',
  'jsonb_build_object',
  'json_build_array',
  'jsonb_build_array',
  'array_to_string',
];

const TYPE_FIELDS =
  /:(?:vartype|consttype|funcresulttype|opresulttype|resulttype|casetype|coalescetype|minmaxtype|array_typeid|element_typeid) (\d+)/g;
const FUNC_FIELDS = /:(?:funcid|opfuncid) (\d+)/g;
const OPERATOR_FIELDS = /:opno (\d+)/g;

/** The node kinds, types, functions and operators of a stored tree (pg_node_tree as text). */
export function treeParts(tree: string): {
  nodes: string[];
  types: number[];
  functions: number[];
  operators: number[];
} {
  const all = (re: RegExp) => [...tree.matchAll(re)].map((m) => Number(m[1]));
  // A `{` inside a quoted name is written `\{`: only unescaped ones open a node.
  const nodes = [...tree.matchAll(/(?<!\\)\{([A-Z_]+)/g)].map((m) => m[1]);
  return {
    nodes,
    types: all(TYPE_FIELDS),
    functions: all(FUNC_FIELDS).filter((f) => f !== 0),
    operators: all(OPERATOR_FIELDS),
  };
}

/** Why the tree may depend on a setting, or null when it cannot. */
export async function settingsDependence(
  client: Client,
  tree: string,
  columnTypes: readonly number[],
): Promise<string | null> {
  const parts = treeParts(tree);
  const node = parts.nodes.find((n) => !NODES.has(n));
  if (node) return `it contains a ${node} node`;
  const type = [...parts.types, ...columnTypes].find((t) => !SETTINGS_FREE_TYPES.has(t));
  if (type !== undefined) return `it involves type ${type}`;
  // Built-in (initdb's OIDs are below 16384), immutable or stable only through its arguments, and
  // not one of the setting readers; an operator by its function.
  const r = await client.query<{ bad: string | null }>(
    `SELECT string_agg(p.oid::regprocedure::text, ', ') AS bad
       FROM pg_proc p
      WHERE (p.oid = ANY($1::oid[]) OR p.oid IN (SELECT oprcode FROM pg_operator WHERE oid = ANY($2::oid[])))
        AND (p.oid >= 16384 OR p.proname = ANY($3::text[]) OR (p.provolatile <> 'i' AND NOT (p.provolatile = 's' AND p.proname = ANY($4::text[]))))`,
    [parts.functions, parts.operators, READS_A_SETTING, STABLE_THROUGH_ARGUMENTS],
  );
  return r.rows[0].bad ? `it calls ${r.rows[0].bad}` : null;
}
