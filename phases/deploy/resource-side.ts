/**
 * Which side of the system a Pulumi resource belongs to, so that a step between two stack states
 * can be checked against hard rule 1 (never change schema and app together). The Pulumi program's
 * tests and the Automation API walker both classify resources with this one function.
 */
import type { Side } from './stages';

/**
 * neutral: belongs to neither side (the stack itself, providers of other packages). unknown: of a
 * package Tandem cannot place, outside its components; a step that changes one is refused.
 */
export type ResourceSide = Side | 'neutral' | 'unknown';

/** The type tokens of Tandem's components (`tandem:<module>:<Name>`). */
export const COMPONENT_TYPES = {
  databaseAccess: 'tandem:database:DatabaseAccess',
  schemaChange: 'tandem:schema:SchemaChange',
  appRollout: 'tandem:app:AppRollout',
  /** Holds one of each of the above; of neither side itself (its children say). */
  tandemMigration: 'tandem:index:TandemMigration',
} as const;

/** Tandem components that only hold other components: neutral, and never decide a child's side. */
const CONTAINER_TYPES: ReadonlySet<string> = new Set([COMPONENT_TYPES.tandemMigration]);

const COMPONENT_SIDES: Readonly<Record<string, Side>> = {
  [COMPONENT_TYPES.databaseAccess]: 'schema',
  [COMPONENT_TYPES.schemaChange]: 'schema',
  [COMPONENT_TYPES.appRollout]: 'app',
};

/** Provider packages by side: what runs against PostgreSQL is schema, what runs on Kubernetes is app. */
const PACKAGE_SIDES: Readonly<Record<string, Side>> = {
  postgresql: 'schema',
  command: 'schema',
  kubernetes: 'app',
};

const PROVIDER_PREFIX = 'pulumi:providers:';

function packageOf(type: string): string {
  const colon = type.indexOf(':');
  return colon < 0 ? type : type.slice(0, colon);
}

/**
 * The side a resource of `type` belongs to, given its ancestors' types (nearest first; a single
 * string is the parent's type). In this order:
 *  1. a Tandem component token decides for itself;
 *  2. the nearest Tandem component above it decides (under SchemaChange or DatabaseAccess: schema,
 *     under AppRollout: app), whatever the resource's package;
 *  3. a provider resource (`pulumi:providers:<pkg>`) goes with its package, and is neutral for any
 *     other package; the stack itself and other `pulumi:` resources are neutral;
 *  4. the package: `postgresql:` and `command:` schema, `kubernetes:` app;
 *  5. anything else is unknown: the walker refuses a step that changes it rather than guess.
 */
export function classifyResourceSide(type: string, ancestors: string | readonly string[] = []): ResourceSide {
  const own = COMPONENT_SIDES[type];
  if (own) return own;
  if (CONTAINER_TYPES.has(type)) return 'neutral';
  for (const ancestor of typeof ancestors === 'string' ? [ancestors] : ancestors) {
    const side = COMPONENT_SIDES[ancestor];
    if (side) return side;
  }
  if (type.startsWith(PROVIDER_PREFIX)) return PACKAGE_SIDES[type.slice(PROVIDER_PREFIX.length)] ?? 'neutral';
  const pkg = packageOf(type);
  return PACKAGE_SIDES[pkg] ?? (pkg === 'pulumi' ? 'neutral' : 'unknown');
}
