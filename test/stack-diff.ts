/**
 * Compares the resources two stack states declare (from the mock recorder), the way the Pulumi
 * engine would step between them: created, deleted, updated in place, or replaced. Each change is
 * classified by side with the same classifyResourceSide the walker uses.
 */
import { classifyResourceSide, ResourceSide } from '../phases/deploy/resource-side';
import { RecordedResource } from './mocks';

export type ChangeKind = 'create' | 'delete' | 'update' | 'replace';

export interface DeclaredChange {
  readonly kind: ChangeKind;
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly side: ResourceSide;
  /** Top-level input keys that differ (update/replace), except those the resource ignores changes to. */
  readonly changedInputs: readonly string[];
  /** The resource as it was before the step (absent for create): what a delete or replace runs. */
  readonly before?: RecordedResource;
  /**
   * A delete (or the delete half of a replace) of a resource the state marks retainOnDelete: the
   * engine removes it from the state and runs nothing. The option in force is the one last
   * declared, i.e. the one `before` was registered with.
   */
  readonly retained: boolean;
}

/**
 * Inputs whose change makes the engine replace the resource (create the new one, then delete the
 * old one, which runs the old one's delete). pulumi-command marks `triggers` replaceOnChanges
 * (CommandArgs.Triggers `provider:"replaceOnChanges"`); every other Command input is an in-place
 * update that runs `update`, or `create` again when `update` is unset.
 */
export const REPLACE_ON_CHANGES: Readonly<Record<string, readonly string[]>> = {
  'command:local:Command': ['triggers'],
};

function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable((value as any)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function typeOf(resources: readonly RecordedResource[], urn: string | undefined): string | undefined {
  return urn ? resources.find((r) => r.urn === urn)?.type : undefined;
}

export function diffDeclared(
  before: readonly RecordedResource[],
  after: readonly RecordedResource[],
): DeclaredChange[] {
  const old = new Map(before.map((r) => [r.urn, r]));
  const neu = new Map(after.map((r) => [r.urn, r]));
  const side = (r: RecordedResource, all: readonly RecordedResource[]) =>
    classifyResourceSide(r.type, typeOf(all, r.parentUrn));
  const changes: DeclaredChange[] = [];
  for (const [urn, b] of old) {
    const a = neu.get(urn);
    if (!a) {
      changes.push({
        kind: 'delete',
        urn,
        type: b.type,
        name: b.name,
        side: side(b, before),
        changedInputs: [],
        before: b,
        retained: b.retainOnDelete,
      });
      continue;
    }
    const ignored = new Set(a.ignoreChanges);
    const keys = [...new Set([...Object.keys(b.inputs), ...Object.keys(a.inputs)])]
      .filter((k) => !ignored.has(k))
      .sort();
    const changed = keys.filter((k) => stable(b.inputs[k]) !== stable(a.inputs[k]));
    if (changed.length === 0) continue;
    const replaceKeys = REPLACE_ON_CHANGES[a.type] ?? [];
    const kind: ChangeKind = changed.some((k) => replaceKeys.includes(k)) ? 'replace' : 'update';
    changes.push({
      kind,
      urn,
      type: a.type,
      name: a.name,
      side: side(a, after),
      changedInputs: changed,
      before: b,
      retained: kind === 'replace' && b.retainOnDelete,
    });
  }
  for (const [urn, a] of neu) {
    if (!old.has(urn))
      changes.push({
        kind: 'create',
        urn,
        type: a.type,
        name: a.name,
        side: side(a, after),
        changedInputs: [],
        retained: false,
      });
  }
  return changes;
}

/** The sides a step changes; `neutral` is kept so a test can insist there is none. */
export function sidesChanged(changes: readonly DeclaredChange[]): ResourceSide[] {
  return [...new Set(changes.map((c) => c.side))].sort();
}

/**
 * What a step runs through a resource's delete: deletes, and replacements (the old one is
 * deleted), except those the state retains (nothing runs for them; see retainedDeletes).
 */
export function deletesRun(changes: readonly DeclaredChange[]): DeclaredChange[] {
  // A component's delete runs nothing either: only custom resources have a provider.
  return changes.filter(
    (c) => (c.kind === 'delete' || c.kind === 'replace') && !c.retained && c.before?.custom !== false,
  );
}

/** Deletes and replacements of retained resources: they leave the state, and no delete runs. */
export function retainedDeletes(changes: readonly DeclaredChange[]): DeclaredChange[] {
  return changes.filter((c) => (c.kind === 'delete' || c.kind === 'replace') && c.retained);
}
