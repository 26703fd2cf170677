/**
 * Runs the real Pulumi program (index.ts) under the shared mocks for one stage and returns what it
 * declared. Used by the stack-*, components-* and rollout-* tests.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as pulumi from '@pulumi/pulumi';
import { Stage } from '../phases/deploy/stages';
import { recordResources, ResourceRecorder, settled } from './mocks';

/** The talk's spec, exactly as the core issue gives it. */
export const SPLIT_FULL_NAME_SPEC = `name: split-full-name
table: customers
operations:
  - split_column:
      column: full_name
      into:
        - name: first_name
          type: text
          up: "split_part(full_name, ' ', 1)"
        - name: last_name
          type: text
          up: "nullif(substr(full_name, length(split_part(full_name, ' ', 1)) + 2), '')"
      down: "concat_ws(' ', first_name, last_name)"
`;

/** Write a spec to a fresh temporary directory and return its path. */
export function writeSpec(text: string = SPLIT_FULL_NAME_SPEC, file = 'split-full-name.yaml'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-spec-'));
  const p = path.join(dir, file);
  fs.writeFileSync(p, text);
  return p;
}

export const MIGRATOR_URL = 'postgres://tandem_migrator:migrator-secret@db.example.internal:5432/shop?sslmode=require';
export const APP_URL = 'postgres://tandem_app:app-secret@postgres.shop.svc:5432/shop';
/** The in-cluster verify Job's read-only login. */
export const VERIFY_URL = 'postgres://tandem_verify:verify-secret@postgres.shop.svc:5432/shop';

/** Config every test stack gets; `overrides` adds or replaces `tandem:*` keys (without the prefix). */
export function baseConfig(stage: Stage, specPath: string): Record<string, unknown> {
  return {
    stage,
    spec: specPath,
    appImage: 'ghcr.io/tandem-dev/tandem-demo',
    verifyImage: 'ghcr.io/tandem-dev/tandem:0.1.0',
    databaseUrl: MIGRATOR_URL,
    appDatabaseUrl: APP_URL,
    verifyDatabaseUrl: VERIFY_URL,
  };
}

export interface StackRun {
  readonly recorder: ResourceRecorder;
  readonly outputs: Record<string, any>;
}

/** Set the stack config for `stage` (values that are not strings are JSON-encoded, as `pulumi config set --path` stores them). */
export function configureStack(stage: string, specPath: string, overrides: Record<string, unknown> = {}): void {
  const config = { ...baseConfig(stage as Stage, specPath), ...overrides };
  const raw: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) {
    if (v !== undefined) raw[`tandem:${k}`] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  pulumi.runtime.setAllConfig(raw, ['tandem:databaseUrl', 'tandem:appDatabaseUrl', 'tandem:verifyDatabaseUrl']);
}

/** Call the program (index.ts exports it as a function, as Pulumi expects) and wait for its registrations. */
export async function runProgram(): Promise<Record<string, any>> {
  const program: () => Promise<Record<string, any>> = require('../index');
  const outputs = await program();
  await settled();
  return outputs;
}

/** Run index.ts for `stage` under fresh mocks and return what it declared. */
export async function runStack(
  stage: Stage,
  specPath: string,
  overrides: Record<string, unknown> = {},
): Promise<StackRun> {
  const recorder = await recordResources();
  configureStack(stage, specPath, overrides);
  const outputs = await runProgram();
  return { recorder, outputs };
}
