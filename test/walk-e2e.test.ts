/**
 * The walker end to end, driving the real `pulumi` CLI through every stage: a local file backend
 * in a temporary directory, the Kubernetes side rendered to YAML (tandem:renderYamlTo, no
 * cluster), the schema side against the test PostgreSQL. Where no `pulumi` is on PATH the suite
 * is skipped, and its test name says why: it never passes without having run.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { createGates } from '../automation/gates';
import { openLocalStack } from '../automation/local-driver';
import { findPulumi } from '../automation/pulumi-cli';
import { StackDriver } from '../automation/stack-driver';
import { walk } from '../automation/walk';
import { WalkEvent } from '../automation/walk-events';
import { RolloutObject } from '../phases/deploy/rollout-health';
import { UnsafeMoveBackError } from '../phases/deploy/walk-path';
import { freshDatabase, serverUrl, sql } from './db';

const PULUMI = findPulumi();
const ROOT = path.resolve(__dirname, '..');
const SKIP_REASON = 'no pulumi CLI on PATH (install it: https://www.pulumi.com/docs/install/); the end-to-end walk needs it';

/** Without a cluster, the rollout gate reads the Rollout the render provider wrote, as a controller would report it once promoted. */
function renderedRollout(renderDir: string) {
  return async (name: string, namespace: string): Promise<RolloutObject | undefined> => {
    const files: string[] = [];
    const walkDir = (d: string) => fs.readdirSync(d, { withFileTypes: true }).forEach((e) => (e.isDirectory() ? walkDir(path.join(d, e.name)) : files.push(path.join(d, e.name))));
    if (fs.existsSync(renderDir)) walkDir(renderDir);
    for (const f of files.filter((f) => /\.ya?ml$/.test(f))) {
      for (const doc of parseAllDocuments(fs.readFileSync(f, 'utf8'))) {
        const o = doc.toJS();
        if (o?.kind === 'Rollout' && o.metadata?.name === name && (o.metadata?.namespace ?? 'default') === namespace) {
          return { ...o, metadata: { ...o.metadata, generation: 1 }, status: { phase: 'Healthy', observedGeneration: '1', stableRS: 'rendered', currentPodHash: 'rendered' } };
        }
      }
    }
    return undefined;
  };
}

if (!PULUMI) {
  // Jest does not list the names of a suite with only skipped tests, so the reason also goes to stderr.
  console.warn(`walk-e2e skipped: ${SKIP_REASON}`);
  describe('walk end to end with the real pulumi CLI', () => {
    it.skip(`skipped: ${SKIP_REASON}`, () => undefined);
  });
} else {
  describe('walk end to end with the real pulumi CLI', () => {
    jest.setTimeout(20 * 60_000);
    const tag = `e2e${process.pid}`;
    const stackName = `walk-${tag}`;
    const migrator = `${tag}_migrator`;
    const appRole = `${tag}_app`;
    let work: string;
    let dbUrl: string;
    let driver: StackDriver;
    let env: NodeJS.ProcessEnv;

    const columns = async () =>
      (await sql(dbUrl, `SELECT column_name FROM information_schema.columns WHERE table_name = 'customers' AND column_name NOT LIKE '\\_tandem%' ORDER BY ordinal_position`)).map((r) => r.column_name);

    beforeAll(async () => {
      if (!fs.existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
      work = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-e2e-'));
      dbUrl = await freshDatabase('e2e');
      const dbName = new URL(dbUrl).pathname.slice(1);
      await sql(serverUrl(), `CREATE ROLE ${migrator} LOGIN PASSWORD 'migrator' CREATEROLE; GRANT CREATE, CONNECT ON DATABASE "${dbName}" TO ${migrator}`);
      await sql(dbUrl, `GRANT CREATE, USAGE ON SCHEMA public TO ${migrator};
                        SET ROLE ${migrator};
                        CREATE TABLE customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, full_name text NOT NULL);
                        INSERT INTO customers (full_name) VALUES ('Ada Lovelace'), ('Alan  Turing'), ('Cher');`);
      const as = (user: string, password: string) => {
        const u = new URL(dbUrl);
        u.username = user;
        u.password = password;
        return u.toString();
      };
      env = {
        ...process.env,
        PULUMI_BACKEND_URL: 'file://' + path.join(work, 'state'),
        PULUMI_CONFIG_PASSPHRASE: 'e2e',
        PULUMI_SKIP_UPDATE_CHECK: 'true',
      };
      fs.mkdirSync(path.join(work, 'state'));
      driver = await openLocalStack({ stackName, projectDir: ROOT, env });
      const auto = await import('@pulumi/pulumi/automation');
      const stack = await auto.LocalWorkspace.selectStack({ stackName, workDir: ROOT }, { envVars: { PULUMI_BACKEND_URL: env.PULUMI_BACKEND_URL!, PULUMI_CONFIG_PASSPHRASE: 'e2e' } });
      await stack.setAllConfig({
        'tandem:spec': { value: 'migrations/split-full-name.yaml' },
        'tandem:databaseUrl': { value: as(migrator, 'migrator'), secret: true },
        'tandem:appDatabaseUrl': { value: as(appRole, 'app'), secret: true },
        'tandem:migratorRole': { value: migrator },
        'tandem:appRole': { value: appRole },
        'tandem:appImage': { value: 'ghcr.io/tandem-dev/tandem-demo' },
        'tandem:verifyImage': { value: 'ghcr.io/tandem-dev/tandem:0.1.0' },
        'tandem:renderYamlTo': { value: path.join(work, 'rendered') },
        // Required, with no fallback to databaseUrl. The verify Job never runs here (the manifests
        // are only rendered), so the app role stands in for a read-only verify role.
        'tandem:verifyDatabaseUrl': { value: as(appRole, 'app'), secret: true },
      });
      await stack.setAllConfig({ 'tandem:canarySteps[0]': { value: 'setWeight 50' }, 'tandem:canarySteps[1]': { value: 'analysis' } }, true);
    });

    afterAll(async () => {
      const auto = await import('@pulumi/pulumi/automation');
      const ws = await auto.LocalWorkspace.create({ workDir: ROOT, envVars: { PULUMI_BACKEND_URL: env.PULUMI_BACKEND_URL!, PULUMI_CONFIG_PASSPHRASE: 'e2e' } });
      await ws.removeStack(stackName, { force: true }).catch(() => undefined);
      fs.rmSync(path.join(ROOT, `Pulumi.${stackName}.yaml`), { force: true });
      fs.rmSync(work, { recursive: true, force: true });
    });

    const gates = () => createGates({ driver, projectDir: ROOT, env: {}, waitSeconds: 0, readRollout: renderedRollout(path.join(work, 'rendered')) });

    it('walks a new stack to expand: first deployment of baseline, then expand adds the new columns', async () => {
      const events: WalkEvent[] = [];
      await walk(driver, gates(), { to: 'expand', yes: true, lockDir: work, onEvent: (e) => events.push(e) });
      expect(events.filter((e) => e.event === 'step-done').map((e) => (e as any).to)).toEqual(['baseline', 'expand']);
      expect(await driver.currentStage()).toBe('expand');
      expect(await columns()).toEqual(['id', 'full_name', 'first_name', 'last_name']);
    });

    it('walks on to contract one up per stage, gates passing, and the old column is gone with the data intact', async () => {
      const events: WalkEvent[] = [];
      await walk(driver, gates(), { to: 'contract', yes: true, lockDir: work, onEvent: (e) => events.push(e) });
      expect(events.filter((e) => e.event === 'step-done').map((e) => (e as any).to)).toEqual(['dual-write', 'cleanup', 'contract']);
      expect(events.filter((e) => e.event === 'gate').map((e) => `${(e as any).gate}:${(e as any).ok}`)).toEqual([
        'verify:true',
        'rollout-healthy:true',
        'rollout-healthy:true',
        'verify:true',
      ]);
      expect(await driver.currentStage()).toBe('contract');
      expect(await columns()).toEqual(['id', 'first_name', 'last_name']);
      expect(await sql(dbUrl, 'SELECT first_name, last_name FROM customers ORDER BY id')).toEqual([
        { first_name: 'Ada', last_name: 'Lovelace' },
        { first_name: 'Alan', last_name: ' Turing' },
        { first_name: 'Cher', last_name: null },
      ]);
    });

    it('refuses to walk back from contract, with nothing applied', async () => {
      await expect(walk(driver, gates(), { to: 'cleanup', yes: true, lockDir: work })).rejects.toBeInstanceOf(UnsafeMoveBackError);
      expect(await driver.currentStage()).toBe('contract');
    });
  });
}
