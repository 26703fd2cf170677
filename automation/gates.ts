/**
 * The live checks between steps. Before dual-write: `verify` passes (every row backfilled and
 * consistent). Before cleanup and contract: the Rollout is fully promoted and Healthy. Contract
 * also needs verify. After every app step's up: its canary ends fully promoted and Healthy.
 * A check that does not pass says what to do next.
 */
import * as path from 'path';
import { status, verify } from '../executor';
import { MigrationProgress } from '../executor/types';
import { UsageError } from '../phases/errors';
import { evaluateRollout, RolloutHealth } from '../phases/deploy/rollout-health';
import { loadSpecFile } from '../executor/spec-file';
import { CONFIG_DEFAULTS } from '../phases/deploy/stack-config';
import { resolveDatabaseUrlAsync } from '../phases/deploy/database-url-source';
import { DATABASE_URL_CONFIG_KEY } from '../phases/deploy/schema-commands';
import { STAGES, STAGE_TABLE, stageIndex } from '../phases/deploy/stages';
import { WalkMove } from '../phases/deploy/walk-path';
import { namespaceExistsInCluster, readRolloutFromCluster, RolloutReader } from './rollout-reader';
import { StackDriver } from './stack-driver';
import { readStackHistory } from './migration-position';
import { errorMessage } from '../phases/error-fields';

export interface GateOutcome {
  readonly ok: boolean;
  /** What was found, one clause. */
  readonly detail: string;
  /** What to do next, one sentence (when not ok). */
  readonly next?: string;
}

/** The migration's step as the database records it. */
export interface SchemaStepReport {
  readonly step: MigrationProgress;
  /** What the database shows, one clause (migration, table, status message). */
  readonly detail: string;
}

export interface Gates {
  /** `tandem verify` passes on the stack's spec. */
  verify(step: WalkMove): Promise<GateOutcome>;
  /** Before a step: the stack's Rollout is fully promoted and Healthy (waits while it progresses). */
  rolloutHealthy(step: WalkMove): Promise<GateOutcome>;
  /**
   * After an app step's up (and the first deployment's): the canary that up started ends fully
   * promoted and Healthy (waits while it progresses). The up itself does not wait: the Rollout
   * carries pulumi.com/skipAwait (phases/deploy/rollout-spec.ts).
   */
  rolloutSettled(step: WalkMove): Promise<GateOutcome>;
  /**
   * The migration's step as the database records it (`tandem status` on the stack's spec and the
   * verify gate's database). Asked before any move back: Pulumi's history can lag the database
   * when a contract up was interrupted after its DDL committed.
   */
  schemaStep(): Promise<SchemaStepReport>;
  /**
   * Before a stack's first up: what the stack needs from the cluster and does not create (its
   * namespace). Without it the first up retries for about a minute, then fails with half the
   * objects created.
   */
  clusterReady?(): Promise<GateOutcome>;
}

export interface GateOptions {
  readonly driver: StackDriver;
  /** Where Pulumi.yaml lives; a relative `tandem:spec` is resolved against it. */
  readonly projectDir: string;
  /** The database verify and the schema-step check read; defaults to the stack's tandem:databaseUrl (the one rule: phases/deploy/database-url-source.ts). */
  readonly databaseUrl?: string;
  /** Where DATABASE_URL is read from (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Defaults to reading the cluster in the current kube context. */
  readonly readRollout?: RolloutReader;
  /** Whether a namespace exists (default: the cluster in the current kube context). */
  readonly namespaceExists?: (name: string) => Promise<boolean>;
  /** How long to wait for a progressing rollout to become Healthy, before a step and after an app step's up (default 600 s; 0: look once). */
  readonly waitSeconds?: number;
  readonly pollSeconds?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  /** Live progress while waiting. */
  readonly onProgress?: (text: string) => void;
}

/** The kubectl commands for the stack's Rollout, to name in advice. */
interface RolloutCommands {
  readonly get: string;
  readonly promote: string;
  readonly retry: string;
}

/** Next-step sentences for a Rollout that is not (yet) Healthy. */
interface RolloutAdvice {
  degraded(cmd: RolloutCommands): string;
  paused(cmd: RolloutCommands): string;
  progressing(cmd: RolloutCommands): string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The stage before `stage`, to name in "walk back to ..." advice. */
function previous(stage: WalkMove['from']): string {
  return stage && stageIndex(stage) > 0 ? STAGES[stageIndex(stage) - 1] : 'baseline';
}

/**
 * The database the verify gate and the schema-step check read, as the walker's machine reaches it:
 * the one rule the CLI's steps use (phases/deploy/database-url-source.ts), with the stack's config
 * read through the driver.
 */
export function gateDatabaseUrl(
  options: Pick<GateOptions, 'driver' | 'databaseUrl' | 'env'>,
): Promise<string | undefined> {
  const { driver } = options;
  const stack = async () => ({
    stack: driver.stackName,
    key: DATABASE_URL_CONFIG_KEY,
    value: await driver.config(DATABASE_URL_CONFIG_KEY),
  });
  return resolveDatabaseUrlAsync({ flag: options.databaseUrl, stack, env: options.env ?? process.env });
}

/**
 * The current migration's spec, as the program resolves it: tandem:migration's entry of
 * tandem:migrations, or else tandem:spec (or its default), relative to the project.
 */
async function specPath(options: GateOptions): Promise<string> {
  const history = await readStackHistory(options.driver, options.projectDir);
  if (history) return history.specPaths[history.current];
  return path.resolve(options.projectDir, (await options.driver.config('tandem:spec')) ?? CONFIG_DEFAULTS.spec);
}

/** The gates' database, or bad input naming what needs it (`purpose`). */
async function databaseUrl(options: GateOptions, purpose: string): Promise<string> {
  const url = await gateDatabaseUrl(options).catch((e) => {
    throw e instanceof UsageError ? new UsageError(`${purpose} needs the database: ${e.message}`) : e;
  });
  if (!url)
    throw new UsageError(`${purpose} needs the database: set the stack's tandem:databaseUrl or pass --database-url`);
  return url;
}

async function rolloutName(driver: StackDriver): Promise<{ name: string; namespace: string }> {
  // The program's outputs name the Rollout (`rollout: { name, namespace }`, or flat
  // `rolloutName` / `namespace`); before the first up, the stack config and its defaults do.
  const outputs = await driver.outputs();
  const nested = (outputs.rollout ?? {}) as Record<string, unknown>;
  const name =
    str(nested.name) ?? str(outputs.rolloutName) ?? (await driver.config('tandem:appName')) ?? CONFIG_DEFAULTS.appName;
  const namespace =
    str(nested.namespace) ??
    str(outputs.namespace) ??
    (await driver.config('tandem:namespace')) ??
    CONFIG_DEFAULTS.namespace;
  return { name, namespace };
}

function rolloutCommands(name: string, namespace: string): RolloutCommands {
  return {
    get: `kubectl argo rollouts get rollout ${name} -n ${namespace}`,
    promote: `kubectl argo rollouts promote ${name} -n ${namespace}`,
    retry: `kubectl argo rollouts retry rollout ${name} -n ${namespace}`,
  };
}

/** How the gates read and wait: the options' seams, with their defaults. */
interface RolloutWait {
  readonly readRollout: RolloutReader;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
  readonly waitMs: number;
  readonly pollMs: number;
  readonly onProgress?: (text: string) => void;
}

function rolloutWait(options: GateOptions): RolloutWait {
  return {
    readRollout: options.readRollout ?? readRolloutFromCluster,
    sleep: options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms))),
    now: options.now ?? Date.now,
    waitMs: (options.waitSeconds ?? 600) * 1000,
    pollMs: (options.pollSeconds ?? 5) * 1000,
    onProgress: options.onProgress,
  };
}

/** One read of the Rollout: its health, or the outcome that ends the wait because it cannot be read. */
async function readRolloutHealth(
  wait: RolloutWait,
  name: string,
  namespace: string,
  where: string,
): Promise<RolloutHealth | GateOutcome> {
  let ro;
  try {
    ro = await wait.readRollout(name, namespace);
  } catch (err) {
    return {
      ok: false,
      detail: `cannot read ${where} (${errorMessage(err).split('\n')[0]})`,
      next: 'Check the kube context (KUBECONFIG) points at the cluster the stack deploys to, then run the walk again.',
    };
  }
  if (!ro) {
    return {
      ok: false,
      detail: `${where} does not exist in the current kube context`,
      next: `Check the kube context, and which Rollout the stack names: a program of your own exports it as the stack output \`rollout: { name, namespace }\` (docs/component-guide.md); Tandem's own program takes it from tandem:appName and tandem:namespace. Then run the walk again.`,
    };
  }
  return evaluateRollout(ro);
}

/**
 * Read the stack's Rollout until evaluateRollout says healthy, degraded or paused (a human must
 * promote), or the wait is over. Generation-aware: right after an update, the status the
 * controller has not re-computed yet counts as progressing, never as the old Healthy.
 */
async function waitForRollout(driver: StackDriver, wait: RolloutWait, advice: RolloutAdvice): Promise<GateOutcome> {
  const { name, namespace } = await rolloutName(driver);
  const where = `Rollout ${namespace}/${name}`;
  const cmd = rolloutCommands(name, namespace);
  const deadline = wait.now() + wait.waitMs;
  for (;;) {
    const health = await readRolloutHealth(wait, name, namespace, where);
    if (!('verdict' in health)) return health;
    switch (health.verdict) {
      case 'healthy':
        return { ok: true, detail: `${where}: ${health.reason}` };
      case 'degraded':
        return { ok: false, detail: `${where}: ${health.reason}`, next: advice.degraded(cmd) };
      case 'paused':
        // Only a pause a human must end: evaluateRollout counts a timed pause step as progressing.
        return { ok: false, detail: `${where}: ${health.reason}`, next: advice.paused(cmd) };
      case 'progressing':
        if (wait.now() >= deadline)
          return { ok: false, detail: `${where}: ${health.reason}`, next: advice.progressing(cmd) };
        wait.onProgress?.(`waiting for ${where}: ${health.reason}`);
        await wait.sleep(wait.pollMs);
    }
  }
}

/** Render mode needs no cluster; otherwise the namespace must exist (the stack creates none). */
async function clusterReady(options: GateOptions): Promise<GateOutcome> {
  const { driver } = options;
  if (await driver.config('tandem:renderYamlTo'))
    return { ok: true, detail: 'render mode: nothing is applied to a cluster' };
  const namespace = (await driver.config('tandem:namespace')) || CONFIG_DEFAULTS.namespace;
  if (await (options.namespaceExists ?? namespaceExistsInCluster)(namespace))
    return { ok: true, detail: `namespace ${namespace} exists` };
  return {
    ok: false,
    detail: `namespace ${namespace} (tandem:namespace) does not exist in the current kube context`,
    next: `The stack creates no namespace: create it with \`kubectl create namespace ${namespace}\` (and install Argo Rollouts in the cluster), then run the walk again.`,
  };
}

/** `tandem verify` on the stack's spec; when it fails, what to do depends on the step it gates. */
async function verifyGate(options: GateOptions, step: WalkMove): Promise<GateOutcome> {
  const file = await specPath(options);
  const url = await databaseUrl(options, 'the verify gate');
  const spec = loadSpecFile(file);
  const report = await verify(spec, { databaseUrl: url });
  if (report.ok) return { ok: true, detail: report.message };
  const next =
    step.to === 'contract'
      ? `Do not contract: inspect the rows with \`tandem verify ${file} --json\` and fix them, or walk back with \`tandem walk --stack ${options.driver.stackName} --to dual-write\`.`
      : `Finish the backfill with \`tandem backfill ${file}\`, check it with \`tandem verify ${file}\`, then run the walk again.`;
  return { ok: false, detail: report.message, next };
}

async function schemaStep(options: GateOptions): Promise<SchemaStepReport> {
  const url = await databaseUrl(options, 'the schema check before a move back');
  const report = await status(loadSpecFile(await specPath(options)), { databaseUrl: url });
  return { step: report.step, detail: `${report.migration} on ${report.table} is ${report.message}` };
}

/** Before the step, the stack is at step.from; walking back goes to the stage before it. */
function healthyAdvice(stack: string, step: WalkMove): RolloutAdvice {
  return {
    degraded: (cmd) =>
      `Stop here: find out why with \`${cmd.get}\`, then fix and retry the rollout, or walk back with \`tandem walk --stack ${stack} --to ${previous(step.from)}\`.`,
    paused: (cmd) => `Promote it with \`${cmd.promote}\` once the canary looks right, then run the walk again.`,
    progressing: (cmd) => `Wait for the canary to finish (\`${cmd.get} --watch\`), then run the walk again.`,
  };
}

/** After the step's up, the stack is at step.to; its canary must end fully promoted. */
function settledAdvice(stack: string, step: WalkMove): RolloutAdvice {
  const canary = `The ${STAGE_TABLE[step.to].app} canary`;
  const at = `the stack is at ${step.to}`;
  const escape = (cmd: RolloutCommands) =>
    step.direction === 'forward' && step.from !== null
      ? `walk back with \`tandem walk --stack ${stack} --to ${step.from}\``
      : `fix it and retry the rollout with \`${cmd.retry}\``;
  return {
    degraded: (cmd) => `${canary} did not go through (${at}): find out why with \`${cmd.get}\`, then ${escape(cmd)}.`,
    paused: (cmd) =>
      `${canary} waits for a human (${at}): promote it with \`${cmd.promote}\` once it looks right, then run the walk again to go on.`,
    progressing: (cmd) =>
      `${canary} is still going after the wait (${at}): watch it with \`${cmd.get} --watch\`, and run the walk again to go on once it is Healthy (or give it longer with --wait).`,
  };
}

export function createGates(options: GateOptions): Gates {
  const { driver } = options;
  const wait = rolloutWait(options);
  return {
    clusterReady: () => clusterReady(options),
    verify: (step) => verifyGate(options, step),
    schemaStep: () => schemaStep(options),
    rolloutHealthy: (step) => waitForRollout(driver, wait, healthyAdvice(driver.stackName, step)),
    rolloutSettled: (step) => waitForRollout(driver, wait, settledAdvice(driver.stackName, step)),
  };
}
