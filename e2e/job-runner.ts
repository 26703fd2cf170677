/**
 * Runs the pods of Kubernetes Jobs on the host, for real, in the kwok-based e2e cluster.
 *
 * kwok fakes every pod on its node: it would report an Argo AnalysisRun's verify Job as Succeeded
 * without running anything. e2e/cluster.sh therefore configures kwok to leave Job pods alone
 * (pods labelled batch.kubernetes.io/job-name), and this runner takes them instead: it binds a
 * pod to a node if nothing has, executes each container's command + args on the host (init
 * containers first) with the container's env (literal values, secretKeyRef / configMapKeyRef,
 * envFrom, a few fieldRefs) and its configMap / secret / emptyDir volumes written to a temp dir
 * (each mountPath mapped to it), and writes the real outcome into the pod status: phase
 * Succeeded or Failed, with containerStatuses[].state.terminated.exitCode. The Job controller then
 * marks the Job Complete or Failed, and Argo marks the measurement; a failing command fails the
 * AnalysisRun.
 *
 * Host commands are rarely the container's paths: `rewrite` (default: `pathMap` prefix
 * replacement on the command, args and workingDir) and `path` (directories put first on PATH, see
 * commandShims) adapt them. restartPolicy OnFailure is treated as Never (one attempt per pod; the
 * Job's backoffLimit decides about new pods).
 *
 *   const runner = startJobRunner({ kubeconfig, onlyAnalysisRuns: true,
 *     path: [commandShims(dir, { tandem: `${repo}/bin/tandem.js` })] });
 *   ...
 *   await runner.stop();
 *
 * CLI: node job-runner.js --kubeconfig FILE [--map /spec/=/host/dir/]... [--path DIR]...
 *      [--only-analysis-runs] [--log-dir DIR]
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { KubeClient, KubeError, kubeClientFromKubeconfig } from './kube';

export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
export const ANALYSIS_RUN_UID_LABEL = 'analysisrun.argoproj.io/uid';

export interface HostCommand {
  /** argv[0] is the program, looked up on PATH when it has no slash. */
  argv: string[];
  env: Record<string, string>;
  cwd: string;
}

export interface CommandContext {
  namespace: string;
  pod: string;
  job: string;
  container: string;
  init: boolean;
}

export interface JobRunnerOptions {
  /** Default: $KUBECONFIG. */
  kubeconfig?: string;
  client?: KubeClient;
  /** Only pods in this namespace (default: all). */
  namespace?: string;
  /** Only pods of Jobs that an Argo AnalysisRun created (label analysisrun.argoproj.io/uid). */
  onlyAnalysisRuns?: boolean;
  /** Container path prefix -> host path prefix, applied to command, args and workingDir. */
  pathMap?: Record<string, string>;
  /**
   * Write the pod's configMap, secret and emptyDir volumes into a temp dir per pod and map each
   * container's mountPath to it (default true). A `pathMap` entry for the same prefix wins.
   */
  materializeVolumes?: boolean;
  /** Directories put in front of the host PATH for the commands. */
  path?: string[];
  /** Extra host environment for every command (below the container's env). */
  env?: Record<string, string>;
  /** Pass the whole host environment (default: only PATH, HOME, TMPDIR, LANG, TZ). */
  inheritEnv?: boolean;
  /** The last word on a command (after pathMap); may return a new one. */
  rewrite?: (cmd: HostCommand, ctx: CommandContext) => HostCommand | Promise<HostCommand>;
  /** Node to bind unbound pods to (default: the first Ready node). */
  nodeName?: string;
  /** Kill a command after this long (exit code 137). Default 10 minutes. */
  timeoutMs?: number;
  pollMs?: number;
  /** Write each container's output to DIR/<namespace>_<pod>_<container>.log. */
  logDir?: string;
  log?: (line: string) => void;
}

export interface RunRecord {
  namespace: string;
  pod: string;
  job: string;
  containers: { name: string; argv: string[]; exitCode: number; output: string; init: boolean }[];
  phase: 'Succeeded' | 'Failed';
  startedAt: string;
  finishedAt: string;
}

export interface JobRunner {
  /** Finished runs, oldest first. */
  readonly runs: RunRecord[];
  /** Resolves with the run of the first pod of that Job that finishes. */
  waitForJob(job: string, namespace?: string, timeoutMs?: number): Promise<RunRecord>;
  stop(): Promise<void>;
}

/** Writes `name` executables into DIR that run the given Node scripts: { tandem: '/repo/bin/tandem.js' }. */
export function commandShims(dir: string, scripts: Record<string, string>): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, script] of Object.entries(scripts)) {
    const file = path.join(dir, name);
    fs.writeFileSync(
      file,
      `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(path.resolve(script))} "$@"\n`,
      { mode: 0o755 },
    );
  }
  return dir;
}

function mapPath(s: string, pathMap: Record<string, string>): string {
  // Longest prefix first, so '/spec/sub/' wins over '/spec/'.
  for (const from of Object.keys(pathMap).sort((a, b) => b.length - a.length)) {
    if (s.startsWith(from)) return pathMap[from] + s.slice(from.length);
    // The directory itself: '/spec' for a '/spec/' entry.
    if (from.endsWith('/') && s === from.slice(0, -1)) return pathMap[from].replace(/\/$/, '');
    // Also inside an argument: --file=/spec/x, sh -c 'cat /spec/x'.
    if (from.startsWith('/') && s.includes(from)) s = s.split(from).join(pathMap[from]);
  }
  return s;
}

const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

export function startJobRunner(options: JobRunnerOptions = {}): JobRunner {
  const kube = options.client ?? kubeClientFromKubeconfig(options.kubeconfig);
  const log = options.log ?? (() => undefined);
  const pollMs = options.pollMs ?? 250;
  const timeoutMs = options.timeoutMs ?? 10 * 60_000;
  const pathMap = options.pathMap ?? {};
  const runs: RunRecord[] = [];
  const claimed = new Set<string>();
  const waiters: { job: string; namespace?: string; resolve: (r: RunRecord) => void }[] = [];
  const active = new Set<Promise<void>>();
  const children = new Set<ReturnType<typeof spawn>>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const podsPath = () =>
    `${options.namespace ? `/api/v1/namespaces/${options.namespace}/pods` : '/api/v1/pods'}?labelSelector=${encodeURIComponent(JOB_NAME_LABEL)}`;

  const notFoundIsUndefined = async <T>(p: Promise<T>): Promise<T | undefined> => {
    try {
      return await p;
    } catch (e) {
      if (e instanceof KubeError && e.code === 404) return undefined;
      throw e;
    }
  };

  async function containerEnv(ns: string, pod: any, c: any): Promise<Record<string, string>> {
    const env: Record<string, string> = {};
    const cache = new Map<string, any>();
    const get = async (kind: 'secrets' | 'configmaps', name: string) => {
      const key = `${kind}/${name}`;
      if (!cache.has(key))
        cache.set(key, await notFoundIsUndefined(kube.request('GET', `/api/v1/namespaces/${ns}/${kind}/${name}`)));
      return cache.get(key);
    };
    for (const from of c.envFrom ?? []) {
      const prefix = from.prefix ?? '';
      if (from.secretRef) {
        const s = await get('secrets', from.secretRef.name);
        if (!s && !from.secretRef.optional) throw new Error(`secret ${from.secretRef.name} not found`);
        for (const [k, v] of Object.entries<string>(s?.data ?? {})) env[prefix + k] = b64(v);
      }
      if (from.configMapRef) {
        const m = await get('configmaps', from.configMapRef.name);
        if (!m && !from.configMapRef.optional) throw new Error(`configmap ${from.configMapRef.name} not found`);
        for (const [k, v] of Object.entries<string>(m?.data ?? {})) env[prefix + k] = v;
      }
    }
    for (const e of c.env ?? []) {
      if (e.value !== undefined)
        env[e.name] = String(e.value).replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, v) => env[v] ?? m);
      else if (e.valueFrom?.secretKeyRef) {
        const ref = e.valueFrom.secretKeyRef;
        const s = await get('secrets', ref.name);
        const v = s?.data?.[ref.key];
        if (v === undefined) {
          if (ref.optional) continue;
          throw new Error(`env ${e.name}: key ${ref.key} of secret ${ref.name} not found`);
        }
        env[e.name] = b64(v);
      } else if (e.valueFrom?.configMapKeyRef) {
        const ref = e.valueFrom.configMapKeyRef;
        const m = await get('configmaps', ref.name);
        const v = m?.data?.[ref.key];
        if (v === undefined) {
          if (ref.optional) continue;
          throw new Error(`env ${e.name}: key ${ref.key} of configmap ${ref.name} not found`);
        }
        env[e.name] = v;
      } else if (e.valueFrom?.fieldRef) {
        const f = e.valueFrom.fieldRef.fieldPath as string;
        const known: Record<string, string | undefined> = {
          'metadata.name': pod.metadata.name,
          'metadata.namespace': ns,
          'metadata.uid': pod.metadata.uid,
          'spec.nodeName': pod.spec.nodeName,
          'spec.serviceAccountName': pod.spec.serviceAccountName,
          'status.podIP': '127.0.0.1',
          'status.hostIP': '127.0.0.1',
        };
        const m = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(f);
        env[e.name] = (m ? pod.metadata[m[1]]?.[m[2]] : known[f]) ?? '';
      }
    }
    return env;
  }

  /** volume name -> host dir with its files (configMap, secret, emptyDir). */
  async function materialize(ns: string, pod: any, root: string): Promise<Map<string, string>> {
    const dirs = new Map<string, string>();
    for (const v of pod.spec.volumes ?? []) {
      const src = v.configMap
        ? { kind: 'configmaps' as const, name: v.configMap.name, ref: v.configMap }
        : v.secret
          ? { kind: 'secrets' as const, name: v.secret.secretName, ref: v.secret }
          : undefined;
      if (!src && !v.emptyDir) continue;
      const dir = path.join(root, v.name);
      fs.mkdirSync(dir, { recursive: true });
      dirs.set(v.name, dir);
      if (!src) continue;
      const obj = await notFoundIsUndefined(
        kube.request<any>('GET', `/api/v1/namespaces/${ns}/${src.kind}/${src.name}`),
      );
      if (!obj) {
        if (src.ref.optional) continue;
        throw new Error(`volume ${v.name}: ${src.kind.replace(/s$/, '')} ${src.name} not found`);
      }
      const files = new Map<string, Buffer>();
      for (const [k, val] of Object.entries<string>(obj.data ?? {}))
        files.set(k, src.kind === 'secrets' ? Buffer.from(val, 'base64') : Buffer.from(val));
      for (const [k, val] of Object.entries<string>(obj.binaryData ?? {})) files.set(k, Buffer.from(val, 'base64'));
      const items: { key: string; path: string }[] =
        src.ref.items ?? [...files.keys()].map((key) => ({ key, path: key }));
      for (const it of items) {
        const data = files.get(it.key);
        if (data === undefined) continue;
        const file = path.join(dir, it.path);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, data);
      }
    }
    return dirs;
  }

  function execute(cmd: HostCommand, logFile?: string): Promise<{ exitCode: number; output: string }> {
    return new Promise((resolve) => {
      let output = '';
      const out = logFile ? fs.createWriteStream(logFile) : undefined;
      const child = spawn(cmd.argv[0], cmd.argv.slice(1), {
        cwd: cmd.cwd,
        env: cmd.env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      children.add(child);
      const onData = (d: Buffer) => {
        if (output.length < 1 << 20) output += d.toString('utf8');
        out?.write(d);
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      const killer = setTimeout(() => {
        output += `\n[job-runner] killed after ${timeoutMs} ms\n`;
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, timeoutMs);
      const finish = (exitCode: number) => {
        clearTimeout(killer);
        children.delete(child);
        out?.end();
        resolve({ exitCode, output });
      };
      child.on('error', (err: NodeJS.ErrnoException) => {
        output += `[job-runner] ${err.message}\n`;
        finish(err.code === 'ENOENT' ? 127 : 126);
      });
      child.on('close', (code, signal) => finish(code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : 15) : 1)));
    });
  }

  async function bind(ns: string, pod: any): Promise<void> {
    if (pod.spec.nodeName) return;
    let node = options.nodeName;
    if (!node) {
      const nodes = await kube.request<any>('GET', '/api/v1/nodes');
      const ready = (nodes.items ?? []).find((n: any) =>
        (n.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
      );
      node = ready?.metadata?.name ?? nodes.items?.[0]?.metadata?.name;
    }
    if (!node) throw new Error('no node to bind the pod to');
    try {
      await kube.request('POST', `/api/v1/namespaces/${ns}/pods/${pod.metadata.name}/binding`, {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name: pod.metadata.name, namespace: ns },
        target: { apiVersion: 'v1', kind: 'Node', name: node },
      });
      pod.spec.nodeName = node;
    } catch (e) {
      if (!(e instanceof KubeError && e.code === 409)) throw e; // the scheduler was first: fine
    }
  }

  /** Replaces the pod status, re-reading on conflicts. */
  async function writeStatus(ns: string, name: string, status: (pod: any) => any): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const pod = await kube.request<any>('GET', `/api/v1/namespaces/${ns}/pods/${name}`);
      pod.status = { ...pod.status, ...status(pod) };
      try {
        await kube.request('PUT', `/api/v1/namespaces/${ns}/pods/${name}/status`, pod);
        return;
      } catch (e) {
        if (e instanceof KubeError && e.code === 409 && attempt < 10) continue;
        throw e;
      }
    }
  }

  async function runPod(pod: any): Promise<void> {
    const ns: string = pod.metadata.namespace;
    const name: string = pod.metadata.name;
    const job: string = pod.metadata.labels?.[JOB_NAME_LABEL] ?? '';
    if (options.onlyAnalysisRuns) {
      const j = await notFoundIsUndefined(kube.request<any>('GET', `/apis/batch/v1/namespaces/${ns}/jobs/${job}`));
      if (!j?.metadata?.labels?.[ANALYSIS_RUN_UID_LABEL]) return;
    }
    log(`job-runner: running pod ${ns}/${name} (job ${job})`);
    // Volumes first: while a ConfigMap or Secret is missing the pod stays Pending (and is tried
    // again), as with a kubelet.
    const volumeRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-job-'));
    let volumes: Map<string, string>;
    try {
      volumes =
        options.materializeVolumes === false ? new Map<string, string>() : await materialize(ns, pod, volumeRoot);
      await bind(ns, pod);
    } catch (e) {
      fs.rmSync(volumeRoot, { recursive: true, force: true });
      throw e;
    }
    const startedAt = new Date().toISOString();
    const containerBase = (c: any) => ({
      name: c.name,
      image: c.image,
      imageID: '',
      containerID: `host://${pod.metadata.uid}/${c.name}`,
      restartCount: 0,
    });
    await writeStatus(ns, name, () => ({
      phase: 'Running',
      startTime: startedAt,
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: startedAt },
        { type: 'Initialized', status: 'True', lastTransitionTime: startedAt },
        { type: 'ContainersReady', status: 'True', lastTransitionTime: startedAt },
        { type: 'Ready', status: 'True', lastTransitionTime: startedAt },
      ],
      containerStatuses: (pod.spec.containers ?? []).map((c: any) => ({
        ...containerBase(c),
        ready: true,
        started: true,
        state: { running: { startedAt } },
      })),
    }));

    const hostPath = [...(options.path ?? []), process.env.PATH ?? '/usr/bin:/bin'].join(path.delimiter);
    const base: Record<string, string> = {};
    const src = options.inheritEnv
      ? process.env
      : { PATH: '', HOME: process.env.HOME, TMPDIR: process.env.TMPDIR, LANG: process.env.LANG, TZ: process.env.TZ };
    for (const [k, v] of Object.entries(src)) if (v !== undefined) base[k] = v;
    base.PATH = hostPath;
    Object.assign(base, options.env ?? {});
    base.HOSTNAME = name;

    const mapFor = (c: any): Record<string, string> => {
      const m: Record<string, string> = {};
      for (const vm of c.volumeMounts ?? []) {
        const dir = volumes.get(vm.name);
        if (!dir) continue;
        const sub = vm.subPath ? path.join(dir, vm.subPath) : dir;
        m[vm.mountPath.replace(/\/?$/, '/')] = sub + '/';
      }
      return { ...m, ...pathMap };
    };

    const record: RunRecord = {
      namespace: ns,
      pod: name,
      job,
      containers: [],
      phase: 'Succeeded',
      startedAt,
      finishedAt: startedAt,
    };
    const terminated: Record<string, any> = {};
    try {
      const steps = [
        ...(pod.spec.initContainers ?? []).map((c: any) => ({ c, init: true })),
        ...(pod.spec.containers ?? []).map((c: any) => ({ c, init: false })),
      ];
      for (const { c, init } of steps) {
        const t0 = new Date().toISOString();
        let exitCode: number;
        let output = '';
        let argv: string[] = [];
        try {
          const env = { ...base, ...(await containerEnv(ns, pod, c)) };
          const expand = (s: string) => s.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, v) => env[v] ?? m);
          const cmap = mapFor(c);
          argv = [...(c.command ?? []), ...(c.args ?? [])].map(expand).map((s) => mapPath(s, cmap));
          if (argv.length === 0)
            throw Object.assign(
              new Error(`container ${c.name} has no command: the image's entrypoint cannot run on the host`),
              { exitCode: 127 },
            );
          const cwd = c.workingDir ? mapPath(c.workingDir, cmap) : process.cwd();
          let cmd: HostCommand = { argv, env, cwd: fs.existsSync(cwd) ? cwd : process.cwd() };
          if (options.rewrite)
            cmd = await options.rewrite(cmd, { namespace: ns, pod: name, job, container: c.name, init });
          argv = cmd.argv;
          const logFile = options.logDir ? path.join(options.logDir, `${ns}_${name}_${c.name}.log`) : undefined;
          if (logFile) fs.mkdirSync(options.logDir!, { recursive: true });
          ({ exitCode, output } = await execute(cmd, logFile));
        } catch (e: any) {
          exitCode = e?.exitCode ?? 1;
          output += `[job-runner] ${e?.message ?? e}\n`;
        }
        const t1 = new Date().toISOString();
        record.containers.push({ name: c.name, argv, exitCode, output, init });
        log(`job-runner: ${ns}/${name} ${init ? 'init container' : 'container'} ${c.name}: exit ${exitCode}`);
        terminated[c.name] = {
          exitCode,
          reason: exitCode === 0 ? 'Completed' : 'Error',
          startedAt: t0,
          finishedAt: t1,
          message: output.slice(-1024),
        };
        if (exitCode !== 0) {
          record.phase = 'Failed';
          break;
        }
      }
    } finally {
      fs.rmSync(volumeRoot, { recursive: true, force: true });
    }
    record.finishedAt = new Date().toISOString();
    const finishedAt = record.finishedAt;
    const statusOf = (c: any) => {
      const t = terminated[c.name] ?? {
        exitCode: 1,
        reason: 'ContainerCannotRun',
        startedAt: finishedAt,
        finishedAt,
        message: 'not run: an earlier container failed',
      };
      return { ...containerBase(c), ready: false, started: false, state: { terminated: t } };
    };
    await writeStatus(ns, name, () => ({
      phase: record.phase,
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: startedAt },
        { type: 'Initialized', status: 'True', lastTransitionTime: startedAt },
        { type: 'ContainersReady', status: 'False', reason: 'PodCompleted', lastTransitionTime: finishedAt },
        { type: 'Ready', status: 'False', reason: 'PodCompleted', lastTransitionTime: finishedAt },
      ],
      initContainerStatuses: (pod.spec.initContainers ?? []).map(statusOf),
      containerStatuses: (pod.spec.containers ?? []).map(statusOf),
    }));
    log(`job-runner: pod ${ns}/${name} ${record.phase}`);
    runs.push(record);
    for (const w of [...waiters]) {
      if (w.job === job && (!w.namespace || w.namespace === ns)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(record);
      }
    }
  }

  async function poll(): Promise<void> {
    try {
      const list = await kube.request<any>('GET', podsPath());
      for (const pod of list.items ?? []) {
        const uid = pod.metadata.uid;
        if (claimed.has(uid) || pod.metadata.deletionTimestamp) continue;
        const phase = pod.status?.phase ?? 'Pending';
        if (phase !== 'Pending') continue;
        claimed.add(uid);
        const p = runPod(pod)
          .catch((e) => {
            log(`job-runner: pod ${pod.metadata.namespace}/${pod.metadata.name}: ${e?.message ?? e}`);
            setTimeout(() => claimed.delete(uid), 2000).unref(); // try again a little later
          })
          .finally(() => active.delete(p));
        active.add(p);
      }
    } catch (e: any) {
      if (!stopped) log(`job-runner: listing pods: ${e?.message ?? e}`);
    }
    if (!stopped) timer = setTimeout(() => void poll(), pollMs);
  }
  void poll();

  return {
    runs,
    waitForJob(job, namespace, waitMs = 5 * 60_000) {
      const done = runs.find((r) => r.job === job && (!namespace || r.namespace === namespace));
      if (done) return Promise.resolve(done);
      return new Promise<RunRecord>((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`job-runner: no pod of job ${job} finished within ${waitMs} ms`)),
          waitMs,
        );
        waiters.push({ job, namespace, resolve: (r) => (clearTimeout(t), resolve(r)) });
      });
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      for (const child of children) {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      await Promise.allSettled([...active]);
    },
  };
}

function parseArgs(argv: string[]): JobRunnerOptions {
  const o: JobRunnerOptions = { pathMap: {}, path: [], log: (l) => console.error(l) };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--kubeconfig') o.kubeconfig = val();
    else if (a === '--namespace') o.namespace = val();
    else if (a === '--map') {
      const [from, to] = val().split('=');
      if (!from || to === undefined) throw new Error('--map FROM=TO');
      o.pathMap![from] = to;
    } else if (a === '--path') o.path!.push(path.resolve(val()));
    else if (a === '--node') o.nodeName = val();
    else if (a === '--only-analysis-runs') o.onlyAnalysisRuns = true;
    else if (a === '--inherit-env') o.inheritEnv = true;
    else if (a === '--log-dir') o.logDir = val();
    else if (a === '--timeout-ms') o.timeoutMs = Number(val());
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

if (require.main === module) {
  try {
    const runner = startJobRunner(parseArgs(process.argv.slice(2)));
    const stop = () => void runner.stop().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  } catch (e: any) {
    console.error(`job-runner: ${e?.message ?? e}`);
    process.exit(2);
  }
}
