/**
 * The stack's plain (non-secret) configuration, validated before any resource is declared. The
 * Pulumi program reads the raw values with pulumi.Config and passes them here; the secrets
 * (`tandem:databaseUrl`, `tandem:appDatabaseUrl`, `tandem:verifyDatabaseUrl`) stay Outputs and
 * never pass through this file.
 */
import {
  CanaryStep,
  defaultCanarySteps,
  parseCanarySteps,
  parseCanaryStepsConfig,
  parsePauseDuration,
} from './canary-steps';
import { ConfigError } from './config-error';
import { ConfigKey, configDefault, STACK_CONFIG_KEYS, StackConfigKey } from './stack-config-keys';
import { isStage, Stage, STAGES } from './stages';

/** Raw values as `pulumi.Config('tandem')` returns them (`getObject` for the structured ones). */
export interface RawStackConfig {
  readonly stage?: string;
  readonly spec?: string;
  readonly appName?: string;
  readonly namespace?: string;
  readonly appImage?: string;
  readonly verifyImage?: string;
  readonly replicas?: number;
  readonly appPort?: number;
  readonly canaryPause?: unknown;
  readonly canarySteps?: unknown;
  readonly dbSchema?: string;
  readonly migratorRole?: string;
  readonly appRole?: string;
  readonly verifyRole?: string;
  /** `pulumi.Config.getBoolean`: absent means true. */
  readonly manageRoles?: boolean;
  readonly renderYamlTo?: string;
  /** `tandem:migrations` (phases/deploy/migration-history.ts); when set, the releases name the images and appImage is not used. */
  readonly migrations?: unknown;
}

export interface StackConfig {
  readonly stage: Stage;
  readonly specPath: string;
  readonly appName: string;
  readonly namespace: string;
  readonly appImage: string;
  readonly verifyImage: string;
  readonly replicas: number;
  readonly appPort: number;
  readonly steps: readonly CanaryStep[];
  readonly dbSchema: string;
  readonly migratorRole: string;
  readonly appRole: string;
  /** The read-only role the verify Job logs in as (tandem:verifyDatabaseUrl). */
  readonly verifyRole: string;
  /** False: a DBA manages the roles; the stack creates none and checks them instead. */
  readonly manageRoles: boolean;
  /** Render manifests to this directory instead of applying them to a cluster. */
  readonly renderYamlTo?: string;
}

/** Defaults of the optional keys, from the one table of keys (phases/deploy/stack-config-keys.ts), which Pulumi.yaml must match. */
export const CONFIG_DEFAULTS = {
  spec: configDefault('spec'),
  appName: configDefault('appName'),
  namespace: configDefault('namespace'),
  replicas: configDefault('replicas'),
  appPort: configDefault('appPort'),
  canaryPause: configDefault('canaryPause'),
  dbSchema: configDefault('dbSchema'),
  migratorRole: configDefault('migratorRole'),
  appRole: configDefault('appRole'),
  verifyRole: configDefault('verifyRole'),
  manageRoles: configDefault('manageRoles'),
} as const;

/**
 * Keys the program requires; the secrets are required too but read as Outputs. The verify URL has
 * no fallback: falling back to databaseUrl would copy the migrator's credentials (table owner,
 * CREATEROLE) into a Secret in the app namespace, under a host name the cluster may not resolve.
 */
export const REQUIRED_KEYS: readonly StackConfigKey[] = keysWhere((k) => k.required === true);
export const SECRET_KEYS: readonly StackConfigKey[] = keysWhere((k) => k.secret === true);

function keysWhere(test: (k: ConfigKey) => boolean): StackConfigKey[] {
  return (Object.entries(STACK_CONFIG_KEYS) as [StackConfigKey, ConfigKey][])
    .filter(([, k]) => test(k))
    .map(([name]) => name);
}

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** The longest derived name is `<app>-verify-db`: keep it within 63 characters. */
const MAX_APP_NAME = 63 - '-verify-db'.length;

function required(key: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new ConfigError(`tandem:${key}`, 'is not set');
  return value;
}

function wholeNumber(key: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`tandem:${key}`, `${value} is not a whole number from ${min} to ${max}`);
  }
  return value;
}

function dnsLabel(key: string, value: string, max: number): string {
  if (!DNS_LABEL.test(value) || value.length > max) {
    throw new ConfigError(
      `tandem:${key}`,
      `"${value}" is not a Kubernetes name (lowercase letters, digits and dashes, at most ${max} characters)`,
    );
  }
  return value;
}

/** An image repository without a tag: the stage picks the tag (v1, v2, v3). */
function imageRepository(key: string, value: string): string {
  const last = value.slice(value.lastIndexOf('/') + 1);
  if (last.includes(':') || last.includes('@')) {
    throw new ConfigError(
      `tandem:${key}`,
      `"${value}" carries a tag or digest; give the repository only, the stage picks the tag (v1, v2, v3)`,
    );
  }
  return value;
}

/** Whether `tandem:migrations` is set (Pulumi.yaml cannot declare a list of objects, so an empty list is "not set" too). */
export function hasMigrations(value: unknown): boolean {
  return value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0);
}

export function resolveStackConfig(raw: RawStackConfig): StackConfig {
  const stage = required('stage', raw.stage);
  if (!isStage(stage))
    throw new ConfigError('tandem:stage', `"${stage}" is not a stage; use one of ${STAGES.join(', ')}`);
  const pause =
    raw.canaryPause === undefined
      ? CONFIG_DEFAULTS.canaryPause
      : parsePauseDuration('tandem:canaryPause', raw.canaryPause);
  // Pulumi.yaml declares defaults for every optional key (an empty string means "the default steps"),
  // so only a pause that differs from its default conflicts with explicit steps. The value is the
  // string `pulumi config set` stores; a list (from code or `--path`) is taken as it is.
  const configured =
    typeof raw.canarySteps === 'string' ? parseCanaryStepsConfig('tandem:canarySteps', raw.canarySteps) : undefined;
  const customSteps =
    configured !== undefined ||
    (raw.canarySteps !== undefined &&
      typeof raw.canarySteps !== 'string' &&
      !(Array.isArray(raw.canarySteps) && raw.canarySteps.length === 0));
  if (customSteps && raw.canaryPause !== undefined && raw.canaryPause !== CONFIG_DEFAULTS.canaryPause) {
    throw new ConfigError(
      'tandem:canaryPause',
      'is ignored when tandem:canarySteps is set; put the durations in the steps',
    );
  }
  return {
    stage,
    specPath: raw.spec ?? CONFIG_DEFAULTS.spec,
    appName: dnsLabel('appName', raw.appName ?? CONFIG_DEFAULTS.appName, MAX_APP_NAME),
    namespace: dnsLabel('namespace', raw.namespace ?? CONFIG_DEFAULTS.namespace, 63),
    // With tandem:migrations the releases name every image; appImage is only the demo's repository (tags v1, v2, v3).
    appImage: hasMigrations(raw.migrations)
      ? (raw.appImage ?? '')
      : imageRepository('appImage', required('appImage', raw.appImage)),
    verifyImage: required('verifyImage', raw.verifyImage),
    replicas: wholeNumber('replicas', raw.replicas ?? CONFIG_DEFAULTS.replicas, 1, 100),
    appPort: wholeNumber('appPort', raw.appPort ?? CONFIG_DEFAULTS.appPort, 1, 65535),
    steps:
      configured ?? (customSteps ? parseCanarySteps('tandem:canarySteps', raw.canarySteps) : defaultCanarySteps(pause)),
    dbSchema: raw.dbSchema ?? CONFIG_DEFAULTS.dbSchema,
    migratorRole: raw.migratorRole ?? CONFIG_DEFAULTS.migratorRole,
    appRole: raw.appRole ?? CONFIG_DEFAULTS.appRole,
    verifyRole: raw.verifyRole ?? CONFIG_DEFAULTS.verifyRole,
    manageRoles: raw.manageRoles ?? CONFIG_DEFAULTS.manageRoles,
    ...(raw.renderYamlTo ? { renderYamlTo: raw.renderYamlTo } : {}),
  };
}
