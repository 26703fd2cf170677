/**
 * The walker end to end on the real engine: the `pulumi` CLI (v3.274.1 from e2e/build.sh), the
 * real kubernetes provider 4.25.0 rendering the app side to YAML (tandem:renderYamlTo, no
 * cluster), the end-to-end suite's stand-in for the command provider (e2e/command-provider/:
 * the Go module proxy serves no pulumi-command), Tandem's own program run inline by the walker
 * (no nodejs language host), a local file backend in a temporary directory, and the schema side
 * against the test PostgreSQL with `tandem:manageRoles false` (the roles made here: no postgresql
 * provider can be built). Without the toolchain the suite is skipped, and its test name says why
 * and what builds it: it never passes without having run.
 */
import { execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Client } from 'pg';
import { parseAllDocuments } from 'yaml';
import { createGates } from '../automation/gates';
import { openLocalStack } from '../automation/local-driver';
import { findPulumi } from '../automation/pulumi-cli';
import { loadProjectProgram, ProgramNotCompiledError } from '../automation/inline-program';
import { StackDriver } from '../automation/stack-driver';
import { walk } from '../automation/walk';
import { WalkEvent } from '../automation/walk-events';
import { PulumiCommandError, StackBusyError } from '../automation/walk-errors';
import { plan, PlanResult } from '../automation/plan';
import { Stage } from '../phases/deploy/stages';
import { acquireWalkLock } from '../automation/walk-lock';
import { RolloutObject } from '../phases/deploy/rollout-health';
import { UnsafeMoveBackError } from '../phases/deploy/walk-path';
import { planAccess } from '../phases/sql/access-plan';
import { renderAccessSql } from '../phases/sql/access-sql';
import { freshDatabase, sql, withClient } from './db';

const ROOT = path.resolve(__dirname, '..');
const KUBERNETES_PLUGIN = 'resource-kubernetes-v4.25.0';

/** The toolchain e2e/build.sh builds (pulumi and the kubernetes plugin), or why it is not there. */
function toolchain(): { pulumi: string; bin: string; kubernetesPlugin: string } | { missing: string } {
  const dir = execFileSync('bash', [path.join(ROOT, 'e2e', 'build.sh'), '--print-dir'], { encoding: 'utf8' }).trim();
  const pulumi = fs.existsSync(path.join(dir, 'bin', 'pulumi')) ? path.join(dir, 'bin', 'pulumi') : findPulumi();
  const kubernetesPlugin = path.join(dir, 'pulumi-home', 'plugins', KUBERNETES_PLUGIN);
  if (!pulumi)
    return {
      missing: `no pulumi (neither ${dir}/bin/pulumi nor one on PATH); build it with e2e/build.sh pulumi pulumi-resource-kubernetes`,
    };
  if (!fs.existsSync(kubernetesPlugin))
    return {
      missing: `no kubernetes provider 4.25.0 in ${dir}/pulumi-home; build it with e2e/build.sh pulumi-resource-kubernetes`,
    };
  return { pulumi, bin: path.dirname(pulumi), kubernetesPlugin };
}

/** Without a cluster, the rollout gate reads the Rollout the render provider wrote, as a controller would report it once promoted. */
function renderedRollout(renderDir: string) {
  return async (name: string, namespace: string): Promise<RolloutObject | undefined> => {
    const files: string[] = [];
    const walkDir = (d: string) =>
      fs
        .readdirSync(d, { withFileTypes: true })
        .forEach((e) => (e.isDirectory() ? walkDir(path.join(d, e.name)) : files.push(path.join(d, e.name))));
    if (fs.existsSync(renderDir)) walkDir(renderDir);
    for (const f of files.filter((f) => /\.ya?ml$/.test(f))) {
      for (const doc of parseAllDocuments(fs.readFileSync(f, 'utf8'))) {
        const o = doc.toJS();
        if (o?.kind === 'Rollout' && o.metadata?.name === name && (o.metadata?.namespace ?? 'default') === namespace) {
          return {
            ...o,
            metadata: { ...o.metadata, generation: 1 },
            status: { phase: 'Healthy', observedGeneration: '1', stableRS: 'rendered', currentPodHash: 'rendered' },
          };
        }
      }
    }
    return undefined;
  };
}

const tools = toolchain();

if ('missing' in tools) {
  // Jest does not list the names of a suite with only skipped tests, so the reason also goes to stderr.
  console.warn(`walk-e2e skipped: ${tools.missing}`);
  describe('walk end to end with the real pulumi CLI', () => {
    it.skip(`skipped: ${tools.missing}`, () => undefined);
  });
} else {
  describe('walk end to end with the real pulumi CLI', () => {
    jest.setTimeout(20 * 60_000);
    const tag = `e2e${process.pid}`;
    const stackName = `walk-${tag}`;
    const migrator = `${tag}_migrator`;
    const appRole = `${tag}_app`;
    const verifyRole = `${tag}_verify`;
    let work: string;
    let dbUrl: string;
    let driver: StackDriver;
    let env: NodeJS.ProcessEnv;
    const saved = { PATH: process.env.PATH, PULUMI_HOME: process.env.PULUMI_HOME };

    const columns = async () =>
      (
        await sql(
          dbUrl,
          `SELECT column_name FROM information_schema.columns WHERE table_name = 'customers' AND column_name NOT LIKE '\\_tandem%' ORDER BY ordinal_position`,
        )
      ).map((r) => r.column_name);
    const as = (user: string, password: string) => {
      const u = new URL(dbUrl);
      u.username = user;
      u.password = password;
      return u.toString();
    };
    /** The workspace the test sets config through (the same project, backend and CLI as the walker's). */
    const workspaceStack = async () => {
      const auto = await import('@pulumi/pulumi/automation');
      const pulumiCommand = await auto.PulumiCommand.get({ root: path.dirname(tools.bin) });
      return auto.LocalWorkspace.selectStack(
        { stackName, workDir: ROOT },
        { envVars: env as Record<string, string>, pulumiCommand },
      );
    };

    beforeAll(async () => {
      // The walker runs dist/index.js (and refuses it when older than a source); the stand-in runs from dist/e2e.
      try {
        loadProjectProgram(ROOT);
      } catch (err) {
        if (!(err instanceof ProgramNotCompiledError)) throw err;
        execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
      }
      const standIn = path.join(ROOT, 'dist', 'e2e', 'command-provider', 'provider.js');
      const newest = Math.max(
        ...['provider.ts', 'semantics.ts'].map(
          (f) => fs.statSync(path.join(ROOT, 'e2e', 'command-provider', f)).mtimeMs,
        ),
      );
      if (!fs.existsSync(standIn) || fs.statSync(standIn).mtimeMs < newest)
        execFileSync('npx', ['tsc', '-p', 'e2e/tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
      work = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-e2e-'));
      // A PULUMI_HOME of its own: the kubernetes plugin from the toolchain, the command stand-in installed.
      const home = path.join(work, 'pulumi-home');
      fs.mkdirSync(path.join(home, 'plugins'), { recursive: true });
      fs.symlinkSync(tools.kubernetesPlugin, path.join(home, 'plugins', KUBERNETES_PLUGIN));
      const installed = execFileSync(path.join(ROOT, 'e2e', 'command-provider', 'install.sh'), [home, tools.pulumi], {
        encoding: 'utf8',
      });
      process.stdout.write(
        `walk-e2e: pulumi ${execFileSync(tools.pulumi, ['version'], { encoding: 'utf8' }).trim()}, kubernetes provider 4.25.0 (rendering YAML); ${installed.trim()}\n`,
      );
      env = {
        ...process.env,
        PATH: `${tools.bin}${path.delimiter}${process.env.PATH}`,
        PULUMI_HOME: home,
        PULUMI_BACKEND_URL: 'file://' + path.join(work, 'state'),
        PULUMI_CONFIG_PASSPHRASE: 'e2e',
        PULUMI_SKIP_UPDATE_CHECK: 'true',
      };
      // The Commands' `pulumi config get` and the gates' reads run with this process's environment too.
      process.env.PATH = env.PATH;
      process.env.PULUMI_HOME = home;
      fs.mkdirSync(path.join(work, 'state'));

      dbUrl = await freshDatabase('e2e');
      const dbName = new URL(dbUrl).pathname.slice(1);
      await sql(
        dbUrl,
        `CREATE ROLE ${migrator} LOGIN PASSWORD 'migrator' CREATEROLE; ALTER DATABASE "${dbName}" OWNER TO ${migrator}`,
      );
      await sql(
        dbUrl,
        `SET ROLE ${migrator};
                        CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, full_name text NOT NULL);
                        INSERT INTO customers (full_name) VALUES ('Ada Lovelace'), ('Alan  Turing'), ('Cher');`,
      );
      // tandem:manageRoles false: the DBA's roles, exactly as Tandem needs them, made here.
      const plan = planAccess({
        schema: 'public',
        migratorRole: migrator,
        appRole,
        verify: { role: verifyRole, table: 'customers' },
      });
      await withClient(as(migrator, 'migrator'), async (c) => {
        for (const st of renderAccessSql(plan, {})) await c.query(st);
      });
      await sql(dbUrl, `ALTER ROLE ${appRole} PASSWORD 'app'; ALTER ROLE ${verifyRole} PASSWORD 'verify'`);

      driver = await openLocalStack({ stackName, projectDir: ROOT, env });
      const stack = await workspaceStack();
      const release = (v: string) => ({ image: `ghcr.io/tandem-dev/tandem-demo:${v}`, env: { APP_VERSION: v } });
      await stack.setAllConfig({
        // Two migrations in a row, as Pulumi.dev.yaml: split full_name, then merge it back.
        'tandem:migrations': {
          value: JSON.stringify([
            {
              spec: 'migrations/split-full-name.yaml',
              releases: { old: release('v1'), dual: release('v2'), new: release('v3') },
            },
            { spec: 'migrations/merge-name.yaml', releases: { dual: release('v2'), new: release('v1') } },
          ]),
        },
        'tandem:migration': { value: 'split-full-name' },
        'tandem:databaseUrl': { value: as(migrator, 'migrator'), secret: true },
        'tandem:appDatabaseUrl': { value: as(appRole, 'app'), secret: true },
        'tandem:verifyDatabaseUrl': { value: as(verifyRole, 'verify'), secret: true },
        'tandem:migratorRole': { value: migrator },
        'tandem:appRole': { value: appRole },
        'tandem:verifyRole': { value: verifyRole },
        'tandem:manageRoles': { value: 'false' },
        'tandem:verifyImage': { value: 'ghcr.io/tandem-dev/tandem:0.1.0' },
        'tandem:renderYamlTo': { value: path.join(work, 'rendered') },
        'tandem:canarySteps': { value: 'setWeight 50, analysis' },
      });
    });

    afterAll(async () => {
      const stack = await workspaceStack().catch(() => undefined);
      await stack?.workspace.removeStack(stackName, { force: true }).catch(() => undefined);
      fs.rmSync(path.join(ROOT, `Pulumi.${stackName}.yaml`), { force: true });
      fs.rmSync(work, { recursive: true, force: true });
      process.env.PATH = saved.PATH;
      if (saved.PULUMI_HOME === undefined) delete process.env.PULUMI_HOME;
      else process.env.PULUMI_HOME = saved.PULUMI_HOME;
    });

    const gates = () =>
      createGates({
        driver,
        projectDir: ROOT,
        env: {},
        waitSeconds: 0,
        readRollout: renderedRollout(path.join(work, 'rendered')),
      });
    const stepsDone = (events: WalkEvent[]) => events.filter((e) => e.event === 'step-done').map((e) => (e as any).to);
    const previews = (events: WalkEvent[]) => events.filter((e) => e.event === 'preview') as any[];
    const walkTo = async (to: Stage | 'next') => {
      const events: WalkEvent[] = [];
      await walk(driver, gates(), { to, yes: true, lockDir: work, projectDir: ROOT, onEvent: (e) => events.push(e) });
      return events;
    };
    let planned: PlanResult;

    it('walks a new stack to expand: first deployment of baseline, then expand adds the new columns', async () => {
      const events = await walkTo('expand');
      expect(stepsDone(events)).toEqual(['baseline', 'expand']);
      expect(await driver.currentStage()).toBe('expand');
      expect(await columns()).toEqual(['id', 'full_name', 'first_name', 'last_name']);
    });

    it('tandem plan on the real preview: the next step (expand -> dual-write) changes the app only', async () => {
      planned = await plan(driver, { to: 'dual-write', preview: true, lockDir: work, projectDir: ROOT });
      expect(planned.steps.map((st) => `${st.from}->${st.to}`)).toEqual(['expand->dual-write']);
      expect(planned.steps[0].refused).toBeUndefined();
      expect(planned.steps[0].preview!.schema).toEqual([]);
      expect(planned.steps[0].preview!.app.length).toBeGreaterThan(0);
      expect(await driver.config('tandem:stage')).toBe('expand');
    });

    it('a second walker on the same stack is refused while the first holds it', async () => {
      const lock = acquireWalkLock(work, stackName);
      try {
        await expect(walk(driver, gates(), { to: 'baseline', yes: true, lockDir: work })).rejects.toBeInstanceOf(
          StackBusyError,
        );
      } finally {
        lock.release();
      }
      expect(await driver.currentStage()).toBe('expand');
    });

    it('a checkout moved to another directory walks the same stack: back from expand and forward again, with nothing else changing', async () => {
      // A second clone elsewhere (the committed tree), its compiled program, the stack's config file.
      const clone = path.join(work, 'second-clone');
      fs.mkdirSync(clone);
      execFileSync('sh', ['-c', `git -C '${ROOT}' archive HEAD | tar -x -C '${clone}'`]);
      fs.cpSync(path.join(ROOT, 'dist'), path.join(clone, 'dist'), { recursive: true });
      fs.copyFileSync(path.join(ROOT, `Pulumi.${stackName}.yaml`), path.join(clone, `Pulumi.${stackName}.yaml`));
      fs.symlinkSync(fs.realpathSync(path.join(ROOT, 'node_modules')), path.join(clone, 'node_modules'));
      const moved = await openLocalStack({ stackName, projectDir: clone, env });
      const movedGates = createGates({
        driver: moved,
        projectDir: clone,
        env: {},
        waitSeconds: 0,
        readRollout: renderedRollout(path.join(work, 'rendered')),
      });
      const events: WalkEvent[] = [];
      await walk(moved, movedGates, {
        to: 'baseline',
        yes: true,
        lockDir: clone,
        projectDir: clone,
        onEvent: (e) => events.push(e),
      });
      await walk(moved, movedGates, {
        to: 'expand',
        yes: true,
        lockDir: clone,
        projectDir: clone,
        onEvent: (e) => events.push(e),
      });
      expect(stepsDone(events)).toEqual(['baseline', 'expand']);
      // Each step changed only the expand stage's Commands: no input names the checkout's path.
      for (const p of previews(events)) {
        expect(p.app).toEqual([]);
        expect(p.schema.length).toBeGreaterThan(0);
        // Only the expand stage's Commands (expand, backfill) and the command provider they use.
        expect(
          p.schema.filter(
            (u: string) =>
              !/command:local:Command::split-full-name-(expand|backfill)$|pulumi:providers:command::/.test(u),
          ),
        ).toEqual([]);
      }
      expect(await columns()).toEqual(['id', 'full_name', 'first_name', 'last_name']);
      // The original checkout goes on from where the clone left the stack.
      fs.copyFileSync(path.join(clone, `Pulumi.${stackName}.yaml`), path.join(ROOT, `Pulumi.${stackName}.yaml`));
      expect(await driver.currentStage()).toBe('expand');
    });

    it("walks back from expand to baseline: the expand Command's delete runs the rollback, the new columns are gone", async () => {
      const events = await walkTo('baseline');
      expect(stepsDone(events)).toEqual(['baseline']);
      expect(await driver.currentStage()).toBe('baseline');
      expect(await columns()).toEqual(['id', 'full_name']);
    });

    /** `tandem walk` as a user runs it: the compiled CLI in the project directory, with the suite's environment. */
    const tandemWalk = (...args: string[]) =>
      spawnSync(
        process.execPath,
        [path.join(ROOT, 'bin', 'tandem.js'), 'walk', '--stack', stackName, '--project', ROOT, '--yes', ...args],
        { cwd: ROOT, env, encoding: 'utf8' },
      );
    /**
     * Every process this run's pulumi started that outlives the walker: the engine starts each
     * plugin (the command provider, the kubernetes provider) in a process group of its own, so
     * killing the walker's group leaves them, and the step the provider runs, going. They carry
     * this run's PULUMI_HOME in their environment.
     */
    const pluginProcesses = (): number[] =>
      fs
        .readdirSync('/proc')
        .filter((d) => /^[0-9]+$/.test(d) && Number(d) !== process.pid)
        .filter((d) => {
          try {
            return fs.readFileSync(`/proc/${d}/environ`, 'utf8').split('\0').includes(`PULUMI_HOME=${env.PULUMI_HOME}`);
          } catch {
            return false;
          }
        })
        .map(Number);

    it('a walker SIGKILLed mid-update (a crash): the next walk refuses naming the pending operation and --recover, and `walk --recover` clears it and reaches expand', async () => {
      expect(await driver.currentStage()).toBe('baseline');
      // The test's own session holds customers: expand's ALTER TABLE waits (and retries) inside its Command's create.
      const blocker = new Client({ connectionString: dbUrl });
      await blocker.connect();
      let walker: ReturnType<typeof spawn> | undefined;
      try {
        await blocker.query('BEGIN');
        await blocker.query('LOCK TABLE customers IN ACCESS SHARE MODE');
        // Its own process group, as a shell starts it: the crash kills the walker and the pulumi CLI it runs.
        walker = spawn(
          process.execPath,
          [
            path.join(ROOT, 'bin', 'tandem.js'),
            'walk',
            '--stack',
            stackName,
            '--project',
            ROOT,
            '--yes',
            '--to',
            'expand',
          ],
          { cwd: ROOT, env, detached: true, stdio: 'ignore' },
        );
        const exited = new Promise((resolve) => walker!.once('exit', resolve));
        // Mid-update, not by timing: the expand step's session waits for the lock this test holds.
        const waiting = async () =>
          (
            await blocker.query(
              `SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = 'customers'::regclass`,
            )
          ).rows[0].n > 0;
        while (!(await waiting())) {
          if (walker.exitCode !== null)
            throw new Error(`the walker exited (${walker.exitCode}) before its expand step reached the database`);
          await new Promise((r) => setTimeout(r, 200));
        }
        process.kill(-walker.pid!, 'SIGKILL');
        await exited;
        // A crash of the machine (or the container) the walker runs in takes the plugins and the running step with it.
        for (const pid of pluginProcesses()) process.kill(pid, 'SIGKILL');
      } finally {
        await blocker.query('ROLLBACK').catch(() => undefined);
        await blocker.end();
      }
      expect(await columns()).toEqual(['id', 'full_name']);

      const refused = tandemWalk('--to', 'expand');
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(
        /operation\(s\) left pending by an interrupted update: urn:pulumi:[^ ]*command:local:Command::split-full-name-expand \(interrupted while creating\)/,
      );
      expect(refused.stderr).toContain('--clear-pending-creates');
      expect(refused.stderr).toContain('--recover');
      expect(await columns()).toEqual(['id', 'full_name']);

      const recovered = tandemWalk('--to', 'expand', '--recover');
      expect({ status: recovered.status, stderr: recovered.stderr }).toEqual({
        status: 0,
        stderr: expect.stringContaining('cleared 1 pending operation(s)'),
      });
      expect(await driver.currentStage()).toBe('expand');
      expect(await columns()).toEqual(['id', 'full_name', 'first_name', 'last_name']);
      expect(await sql(dbUrl, 'SELECT first_name, last_name FROM customers ORDER BY id')).toEqual([
        { first_name: 'Ada', last_name: 'Lovelace' },
        { first_name: 'Alan', last_name: ' Turing' },
        { first_name: 'Cher', last_name: null },
      ]);
      // Back to baseline, where the next test starts: the recovered stack walks as any other.
      expect(stepsDone(await walkTo('baseline'))).toEqual(['baseline']);
      expect(await columns()).toEqual(['id', 'full_name']);
    });

    it('walks on to contract one up per stage, each changing one side, and the old column is gone with the data intact', async () => {
      const events = await walkTo('contract');
      expect(stepsDone(events)).toEqual(['expand', 'dual-write', 'cleanup', 'contract']);
      for (const p of previews(events))
        expect([p.schema.length > 0, p.app.length > 0]).toEqual(
          p.to === 'dual-write' || p.to === 'cleanup' ? [false, true] : [true, false],
        );
      // What tandem plan showed for expand -> dual-write is what the walk's own preview classified.
      const walked = previews(events).find((p) => p.to === 'dual-write');
      expect({ schema: walked.schema, app: walked.app, neutral: walked.neutral }).toEqual(planned.steps[0].preview);
      expect(await driver.currentStage()).toBe('contract');
      expect(await columns()).toEqual(['id', 'first_name', 'last_name']);
      expect(await sql(dbUrl, 'SELECT first_name, last_name FROM customers ORDER BY id')).toEqual([
        { first_name: 'Ada', last_name: 'Lovelace' },
        { first_name: 'Alan', last_name: ' Turing' },
        { first_name: 'Cher', last_name: null },
      ]);
    });

    it('the rendered Rollout depends on the schema Commands in the real state (a destroy deletes the app first)', async () => {
      const auto = await workspaceStack();
      const state = await auto.exportStack();
      const resources = (state.deployment.resources ?? []) as { urn: string; type: string; dependencies?: string[] }[];
      const rollout = resources.find((r) => r.type === 'kubernetes:argoproj.io/v1alpha1:Rollout')!;
      const commands = resources.filter((r) => r.type === 'command:local:Command').map((r) => r.urn);
      expect(commands).toHaveLength(4);
      expect(rollout.dependencies).toEqual(expect.arrayContaining(commands));
    });

    it('refuses to walk back from contract, with nothing applied', async () => {
      await expect(walk(driver, gates(), { to: 'cleanup', yes: true, lockDir: work })).rejects.toBeInstanceOf(
        UnsafeMoveBackError,
      );
      expect(await driver.currentStage()).toBe('contract');
    });

    it('a rotated migrator password (the config value changes) changes no Command: the next preview shows no change at all', async () => {
      await sql(dbUrl, `ALTER ROLE ${migrator} PASSWORD 'rotated'`);
      await (await workspaceStack()).setConfig('tandem:databaseUrl', { value: as(migrator, 'rotated'), secret: true });
      const { changes } = await driver.preview();
      // The program reads its own stack's previous outputs (a StackReference read, every run); nothing else moves.
      expect(changes.filter((c) => c.op !== 'same' && c.op !== 'read')).toEqual([]);
      expect(changes.filter((c) => c.type === 'command:local:Command').map((c) => c.op)).toEqual([
        'same',
        'same',
        'same',
        'same',
      ]);
    });

    it("walk --to next: the first migration's Commands leave the stack without running their deletes, and the second's baseline runs the first's contract release", async () => {
      const events = await walkTo('next');
      expect(stepsDone(events)).toEqual(['baseline']);
      const p = previews(events)[0];
      expect(p.app).toEqual([]);
      expect(await driver.config('tandem:migration')).toBe('merge-name');
      expect(await driver.currentStage()).toBe('baseline');
      // contract's delete exits 1 ("cannot be undone"): had it run, this up would have failed.
      expect(await columns()).toEqual(['id', 'first_name', 'last_name']);
      expect(await driver.outputs()).toMatchObject({
        migration: 'merge-name',
        stage: 'baseline',
        image: 'ghcr.io/tandem-dev/tandem-demo:v3',
      });
    });

    it("a Command that fails: the walker's error carries the tandem CLI's refusal (pulumi's continuation lines), and the walk goes on once it is fixed", async () => {
      // Someone added full_name by hand: merge-name's expand refuses to add it again.
      await sql(as(migrator, 'rotated'), 'ALTER TABLE customers ADD COLUMN full_name text');
      const err = await walkTo('expand').catch((e) => e);
      expect(err).toBeInstanceOf(PulumiCommandError);
      expect(err.message).toMatch(
        /error: exit status \d: running "node bin\/tandem.js expand migrations\/merge-name.yaml >\/dev\/null":\n {2}\S/,
      );
      expect(err.message).toContain('full_name');
      expect(await driver.currentStage()).toBe('baseline');
      await sql(as(migrator, 'rotated'), 'ALTER TABLE customers DROP COLUMN full_name');
      expect(stepsDone(await walkTo('expand'))).toEqual(['expand']);
      expect(await columns()).toEqual(['id', 'first_name', 'last_name', 'full_name']);
    });

    it("a rotated app password updates the app's Secret in place (mutable by design), never delete-before-replace", async () => {
      await sql(dbUrl, `ALTER ROLE ${appRole} PASSWORD 'app-rotated'`);
      await (
        await workspaceStack()
      ).setConfig('tandem:appDatabaseUrl', { value: as(appRole, 'app-rotated'), secret: true });
      const { changes } = await driver.preview();
      expect(changes.filter((c) => c.op !== 'same' && c.op !== 'read').map((c) => `${c.type} ${c.op}`)).toEqual([
        'kubernetes:core/v1:Secret update',
      ]);
    });
  });
}
