/**
 * The stack's history as the walker reads it: `tandem:migrations` (its specs' names, in order) and
 * the current migration, `tandem:migration` of the stack's config. Undefined for a stack without
 * a history (the demo's single `tandem:spec`).
 */
import * as path from 'path';
import { currentMigrationIndex, parseMigrationList } from '../phases/deploy/migration-history';
import { HistoryPosition } from '../phases/deploy/next-migration';
import { ConfigError } from '../phases/deploy/config-error';
import { loadSpecFile } from '../executor/spec-file';
import { StackDriver } from './stack-driver';

export interface StackHistory extends HistoryPosition {
  /** Spec files, resolved against the project, in history order. */
  readonly specPaths: readonly string[];
}

export async function readStackHistory(driver: StackDriver, projectDir: string): Promise<StackHistory | undefined> {
  const raw = await driver.config('tandem:migrations');
  if (raw === undefined || raw === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError('tandem:migrations', 'is not a list; set it with `pulumi config set --path`');
  }
  if (Array.isArray(parsed) && parsed.length === 0) return undefined;
  const entries = parseMigrationList(parsed);
  const specPaths = entries.map((e) => path.resolve(projectDir, e.specPath));
  const names = specPaths.map((p) => loadSpecFile(p).name);
  return { names, specPaths, current: currentMigrationIndex(names, await driver.config('tandem:migration')) };
}
