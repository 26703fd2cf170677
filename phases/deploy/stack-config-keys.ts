/**
 * Every `tandem:` stack configuration key, declared once: its type, its default, whether it is a
 * secret or required. The program's reader (index.ts), `CONFIG_DEFAULTS` and `TandemMigration`'s
 * defaults come from here, and a test holds Pulumi.yaml to it (test/stack-config.test.ts).
 * `tandem:migrations` is read too, but Pulumi.yaml cannot type a list of objects, so it is not here.
 */

export type ConfigKeyType = 'string' | 'integer' | 'boolean';

export interface ConfigKey {
  readonly type: ConfigKeyType;
  /** What applies when the stack does not set it; an optional key must have one (pulumi/pulumi#21797). */
  readonly default?: string | number | boolean;
  /** Read as a secret Output, never as plain text. */
  readonly secret?: boolean;
  /** The program refuses to run without it. */
  readonly required?: boolean;
}

export const STACK_CONFIG_KEYS = {
  stage: { type: 'string', required: true },
  spec: { type: 'string', default: 'migrations/split-full-name.yaml' },
  databaseUrl: { type: 'string', secret: true, required: true },
  appDatabaseUrl: { type: 'string', secret: true, required: true },
  verifyDatabaseUrl: { type: 'string', secret: true, required: true },
  migratorRole: { type: 'string', default: 'tandem_migrator' },
  appRole: { type: 'string', default: 'tandem_app' },
  verifyRole: { type: 'string', default: 'tandem_verify' },
  manageRoles: { type: 'boolean', default: true },
  dbSchema: { type: 'string', default: 'public' },
  appName: { type: 'string', default: 'tandem-demo' },
  namespace: { type: 'string', default: 'default' },
  // Empty: not set (the program then needs tandem:migrations, or uses the first migration).
  appImage: { type: 'string', default: '' },
  migration: { type: 'string', default: '' },
  verifyImage: { type: 'string', required: true },
  replicas: { type: 'integer', default: 4 },
  appPort: { type: 'integer', default: 8080 },
  canaryPause: { type: 'string', default: '30s' },
  canarySteps: { type: 'string', default: '' },
  renderYamlTo: { type: 'string', default: '' },
} as const satisfies Readonly<Record<string, ConfigKey>>;

export type StackConfigKey = keyof typeof STACK_CONFIG_KEYS;

/** The plain keys' raw values, as a reader with pulumi.Config's typed getters returns them. */
export interface ConfigGetters {
  get(key: string): string | undefined;
  getNumber(key: string): number | undefined;
  getBoolean(key: string): boolean | undefined;
}

/** Every plain (non-secret) key read with the getter of its type: the one reader of the table. */
export function readPlainConfig(cfg: ConfigGetters): Partial<Record<StackConfigKey, string | number | boolean>> {
  const out: Partial<Record<StackConfigKey, string | number | boolean>> = {};
  for (const [key, spec] of Object.entries(STACK_CONFIG_KEYS) as [StackConfigKey, ConfigKey][]) {
    if (spec.secret) continue;
    const value =
      spec.type === 'integer' ? cfg.getNumber(key) : spec.type === 'boolean' ? cfg.getBoolean(key) : cfg.get(key);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** The default of a key that has one. */
export function configDefault<K extends StackConfigKey>(
  key: K,
): (typeof STACK_CONFIG_KEYS)[K] extends { default: infer D } ? D : never {
  return (STACK_CONFIG_KEYS[key] as ConfigKey).default as never;
}
