/**
 * A plan recorded in tandem.migrations by an earlier Tandem names some slots and steps as they
 * were then: `rollbackBefore` (now `beforeRollback`) and the index steps `create_index` /
 * `drop_index` (now `index_build` / `index_drop`, so that no step shares a name with an
 * operation). Read back, they are renamed; everything else is left as recorded.
 */
const STEP_KINDS: Readonly<Record<string, string>> = { create_index: 'index_build', drop_index: 'index_drop' };
const STEP_SLOTS = ['afterExpand', 'beforeContract', 'afterContract', 'beforeRollback'];

function renameSteps(steps: unknown): unknown {
  if (!Array.isArray(steps)) return steps;
  return steps.map((s) =>
    s && typeof s === 'object' && typeof s.kind === 'string' && STEP_KINDS[s.kind]
      ? { ...s, kind: STEP_KINDS[s.kind] }
      : s,
  );
}

function upgradeWork(work: unknown): unknown {
  if (!work || typeof work !== 'object' || Array.isArray(work)) return work;
  const { rollbackBefore, ...rest } = work as Record<string, unknown>;
  const out: Record<string, unknown> = { ...rest };
  if (rollbackBefore !== undefined && out.beforeRollback === undefined) out.beforeRollback = rollbackBefore;
  for (const slot of STEP_SLOTS) if (out[slot] !== undefined) out[slot] = renameSteps(out[slot]);
  return out;
}

/** The recorded resolution with its object work in today's names (anything malformed is left for the trust checks). */
export function upgradeRecordedPlan<T>(resolved: T): T {
  if (!resolved || typeof resolved !== 'object') return resolved;
  const objects = (resolved as { objects?: unknown }).objects;
  if (!Array.isArray(objects)) return resolved;
  return { ...resolved, objects: objects.map(upgradeWork) };
}
