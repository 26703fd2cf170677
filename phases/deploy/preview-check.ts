/**
 * Hard rule 1, enforced on a step's preview: classify every resource the preview would change
 * as schema, app, neutral or unknown, and refuse the step if it changes both sides, the side the
 * step must not touch, or a resource no side can be told for. Pure: the walker feeds it the
 * preview's resource events.
 */
import { RefusedError } from '../errors';
import { classifyResourceSide, ResourceSide } from './resource-side';
import { Side } from './stages';
import { WalkMove } from './walk-path';

/** One resource step from a preview (an engine resourcePreEvent). */
export interface ResourceChange {
  readonly urn: string;
  /** e.g. `command:local:Command`, `kubernetes:argoproj.io/v1alpha1:Rollout`. */
  readonly type: string;
  /** The engine's op: same, create, update, delete, replace, create-replacement, read, ... */
  readonly op: string;
}

/** Classifies a resource by its type and its ancestors' types (nearest first). */
export type SideClassifier = (type: string, ancestorTypes: readonly string[]) => ResourceSide;

/** Ops that change nothing: `same`, and `read` (a data-source read). */
const UNCHANGED_OPS = new Set(['same', 'read']);

export function isChange(change: ResourceChange): boolean {
  return !UNCHANGED_OPS.has(change.op);
}

/**
 * The parent's type, from the URN: `urn:pulumi:STACK::PROJECT::Parent$Child::NAME` carries the
 * chain of ancestor types joined by `$`, the resource's own type last.
 */
export function parentTypeOf(urn: string): string | undefined {
  return ancestorTypesOf(urn)[0];
}

/** Every ancestor's type, from the URN's type chain, nearest first. */
export function ancestorTypesOf(urn: string): string[] {
  const parts = urn.split('::');
  if (parts.length < 4) return [];
  return parts[2].split('$').slice(0, -1).reverse();
}

export interface ClassifiedChanges {
  readonly schema: readonly ResourceChange[];
  readonly app: readonly ResourceChange[];
  readonly neutral: readonly ResourceChange[];
  /** checkPreview refuses a step with any. */
  readonly unknown: readonly ResourceChange[];
}

/**
 * An in-place update of the postgresql provider changes nothing in the database: it is the
 * migrator's new password, or another way to reach the same database (a change the provider
 * judges to be another database replaces it, and that shows as a schema change). So rotating the
 * migrator's URL is no schema step. Other providers' updates keep their side: a Kubernetes
 * provider's settings decide what its objects become, and the preview event does not say which
 * settings changed.
 */
export function isNeutralProviderUpdate(change: ResourceChange): boolean {
  return change.op === 'update' && change.type === 'pulumi:providers:postgresql';
}

/** Every changed resource (op other than same/read), by side; the postgresql provider's in-place update is neutral. */
export function classifyChanges(
  changes: readonly ResourceChange[],
  classify: SideClassifier = classifyResourceSide,
): ClassifiedChanges {
  const out: Record<ResourceSide, ResourceChange[]> = { schema: [], app: [], neutral: [], unknown: [] };
  for (const c of changes) {
    if (isChange(c)) out[isNeutralProviderUpdate(c) ? 'neutral' : classify(c.type, ancestorTypesOf(c.urn))].push(c);
  }
  return out;
}

export type PreviewRefusal = 'unknown-side' | 'both-sides' | 'wrong-side' | 'first-deployment-changes';

/** A step's preview breaks hard rule 1: exit 1, nothing applied. Carries the offending URNs. */
export class PreviewRefusedError extends RefusedError {
  readonly kind = 'preview_refused';
  constructor(
    readonly refusal: PreviewRefusal,
    readonly from: string | null,
    readonly to: string,
    readonly offending: readonly ResourceChange[],
    message: string,
  ) {
    super(message);
    this.name = 'PreviewRefusedError';
  }
}

function list(changes: readonly ResourceChange[]): string {
  const shown = changes.slice(0, 5).map((c) => `${c.op} ${c.urn}`);
  return shown.join(', ') + (changes.length > 5 ? ` and ${changes.length - 5} more` : '');
}

const other = (side: Side): Side => (side === 'schema' ? 'app' : 'schema');

/**
 * Check one step's preview against hard rule 1; returns the classification when the step may
 * run, throws PreviewRefusedError when it must not.
 */
export function checkPreview(
  step: WalkMove,
  changes: readonly ResourceChange[],
  classify: SideClassifier = classifyResourceSide,
): ClassifiedChanges {
  const byside = classifyChanges(changes, classify);
  const name = `${step.from ?? '(nothing deployed)'} -> ${step.to}`;
  if (byside.unknown.length > 0) {
    throw new PreviewRefusedError(
      'unknown-side',
      step.from,
      step.to,
      byside.unknown,
      `refused step ${name}: the preview changes resources that are neither schema nor app (${list(byside.unknown)}); ` +
        'declare them under a Tandem component (DatabaseAccess or SchemaChange for the schema, AppRollout for the app) so the step can be checked',
    );
  }
  if (step.side === null) {
    const notCreates = [...byside.schema, ...byside.app, ...byside.neutral].filter((c) => c.op !== 'create');
    if (notCreates.length > 0) {
      throw new PreviewRefusedError(
        'first-deployment-changes',
        step.from,
        step.to,
        notCreates,
        `refused step ${name}: the first deployment may only create resources, but the preview would ${list(notCreates)}`,
      );
    }
    return byside;
  }
  if (byside.schema.length > 0 && byside.app.length > 0) {
    throw new PreviewRefusedError(
      'both-sides',
      step.from,
      step.to,
      [...byside.schema, ...byside.app],
      `refused step ${name}: the preview changes both the schema (${list(byside.schema)}) and the app (${list(byside.app)}); ` +
        'schema and app must never change in the same update',
    );
  }
  const wrong = byside[other(step.side)];
  if (wrong.length > 0) {
    throw new PreviewRefusedError(
      'wrong-side',
      step.from,
      step.to,
      wrong,
      `refused step ${name}: this step may change only the ${step.side}, but the preview changes the ${other(step.side)} (${list(wrong)})`,
    );
  }
  return byside;
}
