/**
 * Which side of the system a Pulumi resource belongs to, so that a step between two stack states
 * can be checked against hard rule 1 (never change schema and app together). The Pulumi program's
 * tests and the Automation API walker both classify resources with this one function.
 */
import type { Side } from './stages';

export type ResourceSide = Side | 'neutral';

/** The type tokens of Tandem's components (`tandem:<module>:<Name>`). */
export const COMPONENT_TYPES = {
  databaseAccess: 'tandem:database:DatabaseAccess',
  schemaChange: 'tandem:schema:SchemaChange',
  appRollout: 'tandem:app:AppRollout',
} as const;

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
  if (type.startsWith(PROVIDER_PREFIX)) return type.slice(PROVIDER_PREFIX.length);
  const colon = type.indexOf(':');
  return colon < 0 ? type : type.slice(0, colon);
}

/**
 * The side a resource of `type` belongs to. A Tandem component token decides first, then the
 * provider package (`postgresql:`, `command:` schema; `kubernetes:` app; a `pulumi:providers:<pkg>`
 * resource goes with its package); a resource of any other package takes its parent component's
 * side. Everything else (the stack itself, unknown packages without a Tandem parent) is neutral.
 */
export function classifyResourceSide(type: string, parentType?: string): ResourceSide {
  const component = COMPONENT_SIDES[type];
  if (component) return component;
  const byPackage = PACKAGE_SIDES[packageOf(type)];
  if (byPackage) return byPackage;
  if (parentType !== undefined && parentType !== type) return classifyResourceSide(parentType);
  return 'neutral';
}
