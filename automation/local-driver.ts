/**
 * The one real StackDriver: the Pulumi Automation API's LocalWorkspace on the project directory,
 * with the project's program run inline (automation/inline-program.ts): the walker loads the
 * program's `main` itself and the engine talks to a language runtime inside the walker, so no
 * `pulumi-language-nodejs` plugin is needed. The workspace's workDir is the project directory,
 * so its Pulumi.yaml and Pulumi.<stack>.yaml (config, secrets provider) stay in force. The backend is whatever
 * the user configured (PULUMI_BACKEND_URL, Pulumi.yaml's backend.url, or a `pulumi login`);
 * otherwise a local file backend under the project's .tandem/state, with the passphrase secrets
 * provider reading PULUMI_CONFIG_PASSPHRASE(_FILE) from the environment.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'yaml';
import type { EngineEvent, Stack } from '@pulumi/pulumi/automation';
import { UsageError } from '../phases/errors';
import { ResourceChange } from '../phases/deploy/preview-check';
import { Stage } from '../phases/deploy/stages';
import { deployedStage, HistoryEntry } from './deployed-stage';
import { findPulumi } from './pulumi-cli';
import { pendingOperationsOf, resourceChangeOf, resourceEventOf } from './engine-events';
import { kubernetesObjectExists, ObjectExists, PendingImport, pendingImports, recoveryArgs } from './pending-creates';
import { PendingOperation, PreviewOutcome, StackDriver, UpOutcome } from './stack-driver';
import { PulumiCommandError, PulumiMissingError, StackBusyError } from './walk-errors';
import { inProgramContext, loadProjectProgram } from './inline-program';
import { fileBackendDir, staleStackLocks } from './stale-stack-lock';

export interface LocalStackOptions {
  readonly stackName: string;
  /** The directory holding Pulumi.yaml. */
  readonly projectDir: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Whether a pending create's Kubernetes object exists (default: the current kube context). */
  readonly objectExists?: ObjectExists;
}

/** Where the stack's state lives, and whether Tandem chose it. */
export interface Backend {
  readonly url: string | undefined;
  /** True when no backend was configured and Tandem uses its local file backend. */
  readonly local: boolean;
}

function loggedIn(env: NodeJS.ProcessEnv): boolean {
  const home = env.PULUMI_HOME ?? path.join(os.homedir(), '.pulumi');
  try {
    const creds = JSON.parse(fs.readFileSync(path.join(home, 'credentials.json'), 'utf8'));
    return typeof creds?.current === 'string' && creds.current !== '';
  } catch {
    return false;
  }
}

/** The user's backend if they configured one, otherwise file://<project>/.tandem/state. */
export function chooseBackend(projectDir: string, env: NodeJS.ProcessEnv): Backend {
  if (env.PULUMI_BACKEND_URL) return { url: env.PULUMI_BACKEND_URL, local: false };
  const project = parse(fs.readFileSync(path.join(projectDir, 'Pulumi.yaml'), 'utf8')) as {
    backend?: { url?: string };
  } | null;
  if (project?.backend?.url) return { url: project.backend.url, local: false };
  if (loggedIn(env)) return { url: undefined, local: false };
  return { url: 'file://' + path.join(projectDir, '.tandem', 'state'), local: true };
}

/**
 * The directory of one stack's saved plans, under .tandem/plans. One directory per stack, named by
 * the stack name with every character but letters, digits, `_` and `-` escaped (`/` and `.` too),
 * so clearing one stack's plans never touches another's, as a name prefix would (`prod-` is a
 * prefix of `prod-eu-`), and no two stacks share a directory.
 */
export function stackPlansDir(projectDir: string, stackName: string): string {
  const escaped = [...stackName]
    .map((c) => (/[A-Za-z0-9_-]/.test(c) ? c : `%${c.codePointAt(0)!.toString(16).padStart(2, '0')}`))
    .join('');
  return path.join(projectDir, '.tandem', 'plans', escaped);
}

const shellQuote = (s: string) => (/^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * Runs fn with SIGINT and SIGTERM passed on to the pulumi CLI it starts (through the Automation
 * API's abort signal, which sends the CLI SIGINT: the engine finishes the operations in flight and
 * records the rest, instead of leaving more pending operations). The CLI entry's own handler sees
 * this listener and leaves the exit to it; once the CLI has exited, the signal is raised again.
 */
export async function forwardingSignals<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    received ??= sig;
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await fn(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (received && process.listenerCount(received) === 0) process.kill(process.pid, received);
  }
}

/** The checks before anything is opened: a pulumi to run, a project to run it in. */
function checkProject(projectDir: string, env: NodeJS.ProcessEnv): void {
  if (!findPulumi(env)) throw new PulumiMissingError();
  if (!fs.existsSync(path.join(projectDir, 'Pulumi.yaml'))) {
    throw new UsageError(
      `${projectDir} has no Pulumi.yaml; run the walker in the Tandem project directory or pass --project DIR`,
    );
  }
}

/** The backend (chooseBackend); Tandem's local one needs a passphrase for secrets and its directory. */
function prepareBackend(projectDir: string, env: NodeJS.ProcessEnv): Backend {
  const backend = chooseBackend(projectDir, env);
  if (backend.local) {
    if (env.PULUMI_CONFIG_PASSPHRASE === undefined && env.PULUMI_CONFIG_PASSPHRASE_FILE === undefined) {
      throw new UsageError(
        'the local state backend encrypts secrets with a passphrase: set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE), or set PULUMI_BACKEND_URL to use your own backend',
      );
    }
    fs.mkdirSync(path.join(projectDir, '.tandem', 'state'), { recursive: true });
  }
  return backend;
}

/**
 * The environment of the pulumi CLI (and the plugins it starts: the Commands inherit it): the
 * walker's environment as given (PULUMI_HOME, PATH, KUBECONFIG, the passphrase...), not only the
 * process's, with the backend.
 */
function workspaceEnv(env: NodeJS.ProcessEnv, backend: Backend): Record<string, string> {
  const envVars: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) envVars[key] = value;
  if (backend.url) envVars.PULUMI_BACKEND_URL = backend.url;
  // Tandem's ConfigMap (the spec) and Secrets (the URLs) are mutable by design: by default
  // pulumi-kubernetes replaces one whose data changes, and with a fixed name that is delete before
  // create, so the spec ConfigMap (next migration) and the Secrets (a password rotation) would be
  // missing for a moment under the running pods and the verify Job. The provider reads these from
  // its environment (no provider input changes); a value the user set is kept.
  envVars.PULUMI_K8S_ENABLE_CONFIGMAP_MUTABLE ??= 'true';
  envVars.PULUMI_K8S_ENABLE_SECRET_MUTABLE ??= 'true';
  return envVars;
}

type Automation = typeof import('@pulumi/pulumi/automation');

/** Run a pulumi operation; a locked stack becomes StackBusyError, any other failure its error lines only. */
function pulumiOperation(auto: Automation, stackName: string) {
  return async <T>(operation: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof auto.ConcurrentUpdateError) throw stackLocked(stackName);
      if (err instanceof auto.CommandError) throw new PulumiCommandError(operation, stackName, err);
      throw err;
    }
  };
}

function stackLocked(stackName: string): StackBusyError {
  return new StackBusyError(
    stackName,
    `Pulumi reports the stack is locked by another update; if none is running, \`pulumi cancel --stack ${shellQuote(stackName)}\` removes the stale lock`,
  );
}

/** What a LocalStackDriver works with, gathered by openLocalStack. */
interface LocalStack {
  readonly stackName: string;
  readonly projectDir: string;
  readonly projectName: string;
  readonly env: NodeJS.ProcessEnv;
  readonly envVars: Record<string, string>;
  readonly backend: Backend;
  readonly stack: Stack;
  readonly busy: ReturnType<typeof pulumiOperation>;
  readonly objectExists: ObjectExists;
}

/**
 * Select (or create) the stack with the program inline. workDir goes in the options (second
 * argument): in the first it is ignored and the stack silently gets a temp directory, a default
 * project and no stack config.
 */
async function selectStack(
  auto: Automation,
  busy: LocalStack['busy'],
  stackName: string,
  projectDir: string,
  env: NodeJS.ProcessEnv,
  envVars: Record<string, string>,
) {
  const { projectName, program } = loadProjectProgram(projectDir);
  // The pulumi that findPulumi found on the given PATH, when it sits in an installation's bin/.
  const found = findPulumi(env)!;
  const root = path.basename(path.dirname(found)) === 'bin' ? path.dirname(path.dirname(found)) : undefined;
  const pulumiCommand = root ? await auto.PulumiCommand.get({ root }) : undefined;
  const stack: Stack = await busy('stack select', () =>
    auto.LocalWorkspace.createOrSelectStack(
      { stackName, projectName, program },
      { workDir: projectDir, envVars, ...(pulumiCommand ? { pulumiCommand } : {}) },
    ),
  );
  return { projectName, stack };
}

export async function openLocalStack(options: LocalStackOptions): Promise<StackDriver> {
  const env = options.env ?? process.env;
  const projectDir = path.resolve(options.projectDir);
  const stackName = options.stackName;
  checkProject(projectDir, env);
  const backend = prepareBackend(projectDir, env);
  const envVars = workspaceEnv(env, backend);
  // Loaded here, not at the top: the Automation API is only needed once a stack is opened.
  const auto = await import('@pulumi/pulumi/automation');
  const busy = pulumiOperation(auto, stackName);
  const { projectName, stack } = await selectStack(auto, busy, stackName, projectDir, env, envVars);
  const objectExists = options.objectExists ?? kubernetesObjectExists;
  return new LocalStackDriver({ stackName, projectDir, projectName, env, envVars, backend, stack, busy, objectExists });
}

/** The StackDriver on a LocalWorkspace stack. */
class LocalStackDriver implements StackDriver {
  readonly stackName: string;
  private readonly stack: Stack;
  private readonly plansDir: string;
  /** The imports the last look at the pending operations found, for recoveryCommand. */
  private lastImports: PendingImport[] = [];

  constructor(private readonly local: LocalStack) {
    this.stackName = local.stackName;
    this.stack = local.stack;
    this.plansDir = stackPlansDir(local.projectDir, local.stackName);
  }

  /** An engine run: the program's working directory and process.exit guard, SIGINT/SIGTERM passed on to the CLI. */
  private engineRun<T>(operation: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.local.busy(operation, () => inProgramContext(this.local.projectDir, () => forwardingSignals(fn)));
  }

  private async findImports(): Promise<PendingImport[]> {
    try {
      this.lastImports = await pendingImports(await this.stack.exportStack(), this.local.objectExists);
    } catch {
      // No cluster to ask (no kube context, render mode): clear instead; server-side apply adopts what exists.
      this.lastImports = [];
    }
    return this.lastImports;
  }

  outputs = async (): Promise<Record<string, unknown>> => {
    const out = await this.stack.outputs();
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.value]));
  };

  config = async (key: string): Promise<string | undefined> => {
    const all = await this.stack.getAllConfig();
    return all[key]?.value;
  };

  async currentStage(): Promise<Stage | null> {
    const history = await this.stack.history(50, 1, false);
    return deployedStage(this.stackName, history as unknown as HistoryEntry[], await this.outputs());
  }

  async setStage(stage: Stage): Promise<void> {
    await this.stack.setConfig('tandem:stage', { value: stage });
  }

  async setMigration(name: string): Promise<void> {
    await this.stack.setConfig('tandem:migration', { value: name });
  }

  async preview(): Promise<PreviewOutcome> {
    // One saved plan per stack: a refused or unconfirmed step leaves its plan behind until the next preview.
    fs.mkdirSync(this.plansDir, { recursive: true });
    for (const old of fs.readdirSync(this.plansDir))
      if (/^[0-9]+\.json$/.test(old)) fs.rmSync(path.join(this.plansDir, old), { force: true });
    const planFile = path.join(this.plansDir, `${Date.now()}.json`);
    const changes: ResourceChange[] = [];
    await this.engineRun('preview', (signal) =>
      this.stack.preview({
        plan: planFile,
        signal,
        onEvent: (e: EngineEvent) => {
          const change = resourceChangeOf(e);
          if (change) changes.push(change);
        },
      }),
    );
    return { changes, planFile: fs.existsSync(planFile) ? planFile : undefined };
  }

  async up({ planFile, onEvent }: Parameters<StackDriver['up']>[0]): Promise<UpOutcome> {
    try {
      const result = await this.engineRun('up', (signal) =>
        this.stack.up({
          plan: planFile,
          signal,
          onEvent: (e: EngineEvent) => {
            const event = resourceEventOf(e);
            if (event) onEvent?.(event);
          },
        }),
      );
      return { resourceChanges: { ...(result.summary.resourceChanges ?? {}) } as Record<string, number> };
    } finally {
      if (planFile) fs.rmSync(planFile, { force: true });
    }
  }

  async pendingOperations(): Promise<PendingOperation[]> {
    const pending = pendingOperationsOf(await this.stack.exportStack());
    if (pending.some((p) => p.op === 'creating')) await this.findImports();
    return pending;
  }

  async recoverPendingOperations(): Promise<void> {
    const { envVars, projectName, stackName } = this.local;
    // A killed update's own lock (file backend) outlives its pulumi: removed when every holder is gone.
    const backendDir = fileBackendDir(envVars.PULUMI_BACKEND_URL);
    if (backendDir) for (const f of staleStackLocks(backendDir, projectName, stackName)) fs.rmSync(f, { force: true });
    const imports = await this.findImports();
    if (imports.length === 0) return this.clearPendingOperations();
    this.importPendingCreates(imports);
  }

  /**
   * Nothing to import: drop the pending operations from the state and touch nothing else. A
   * refresh would read every resource (failing when no cluster answers, and taking any operator's
   * edit into the state, for the next step's preview to undo).
   */
  private async clearPendingOperations(): Promise<void> {
    const { busy } = this.local;
    const exported = await busy('stack export', () => this.stack.exportStack());
    const { pending_operations: _cleared, ...deployment } = exported.deployment ?? {};
    await busy('stack import', () => this.stack.importStack({ ...exported, deployment }));
  }

  /** The Automation API has no --import-pending-creates: run the CLI with the workspace's environment. */
  private importPendingCreates(imports: PendingImport[]): void {
    const { env, envVars, projectDir, stackName } = this.local;
    const args = recoveryArgs(stackName, projectDir, imports);
    const r = spawnSync(findPulumi(env)!, [...args, '--skip-preview', '--non-interactive'], {
      cwd: projectDir,
      env: { ...env, ...envVars },
      encoding: 'utf8',
    });
    if (r.status === 0) return;
    const message = `${r.stderr ?? ''}${r.stdout ?? ''}`;
    if (/update is already in progress|locked by/i.test(message)) throw stackLocked(stackName);
    throw new PulumiCommandError('refresh', stackName, new Error(message || `exit status ${r.status}`));
  }

  recoveryCommand(): string {
    const { backend, stackName, projectDir } = this.local;
    const prefix = backend.local ? `PULUMI_BACKEND_URL=${shellQuote(backend.url!)} ` : '';
    return `${prefix}pulumi ${recoveryArgs(stackName, projectDir, this.lastImports).map(shellQuote).join(' ')}`;
  }
}
