/**
 * The cluster reader, for real but outside jest: @kubernetes/client-node is an ES module that jest
 * cannot load, so this compiles automation/rollout-reader.ts exactly as tsc does (CommonJS) and
 * runs it in a child node process against a fake Kubernetes API server. It proves the dynamic
 * import survives compilation, the request path, and that a 404 means "no such Rollout".
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as path from 'path';
import * as ts from 'typescript';
import * as rollouts from './rollout-health-fixtures';

const ROOT = path.resolve(__dirname, '..');

describe('readRolloutFromCluster (child process, fake API server)', () => {
  let dir: string;
  let server: http.Server;
  const requests: string[] = [];

  beforeAll(async () => {
    // Under the project, so the child resolves @kubernetes/client-node from its node_modules.
    fs.mkdirSync(path.join(ROOT, '.tandem'), { recursive: true });
    dir = fs.mkdtempSync(path.join(ROOT, '.tandem', 'reader-test-'));
    const tsconfig = ts.readConfigFile(path.join(ROOT, 'tsconfig.json'), ts.sys.readFile).config;
    const { options } = ts.convertCompilerOptionsFromJson(tsconfig.compilerOptions, ROOT);
    // The reader and the modules it imports, compiled as the build compiles them, in the same layout.
    for (const module of ['automation/rollout-reader', 'automation/kube-client', 'phases/error-fields']) {
      const out = ts.transpileModule(fs.readFileSync(path.join(ROOT, `${module}.ts`), 'utf8'), {
        compilerOptions: options,
      });
      fs.mkdirSync(path.dirname(path.join(dir, module)), { recursive: true });
      fs.writeFileSync(path.join(dir, `${module}.js`), out.outputText);
    }
    server = http.createServer((req, res) => {
      requests.push(`${req.method} ${req.url} ${req.headers.authorization}`);
      res.setHeader('content-type', 'application/json');
      if (req.url === '/apis/argoproj.io/v1alpha1/namespaces/prod/rollouts/shop')
        return void res.end(JSON.stringify(rollouts.paused));
      res.statusCode = 404;
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    fs.writeFileSync(
      path.join(dir, 'kubeconfig'),
      `apiVersion: v1
kind: Config
clusters: [{ name: fake, cluster: { server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true } }]
users: [{ name: walker, user: { token: walker-token } }]
contexts: [{ name: fake, context: { cluster: fake, user: walker } }]
current-context: fake
`,
    );
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const runChild = (name: string, namespace: string) =>
    new Promise<string>((resolve, reject) => {
      const script = `require(${JSON.stringify(path.join(dir, 'automation', 'rollout-reader.js'))}).readRolloutFromCluster(${JSON.stringify(name)}, ${JSON.stringify(namespace)})
        .then((r) => console.log(JSON.stringify({ found: r === undefined ? null : r })), (e) => { console.log(JSON.stringify({ error: String(e.message) })); });`;
      execFile(
        process.execPath,
        ['-e', script],
        { env: { ...process.env, KUBECONFIG: path.join(dir, 'kubeconfig') }, cwd: dir },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout.trim())),
      );
    });

  it('the compiled reader keeps a real import() (not require) for the ES module', () => {
    const loader = fs.readFileSync(path.join(dir, 'automation', 'kube-client.js'), 'utf8');
    expect(loader).toContain("new Function('specifier', 'return import(specifier)')");
    for (const module of ['rollout-reader', 'kube-client']) {
      expect(fs.readFileSync(path.join(dir, 'automation', `${module}.js`), 'utf8')).not.toMatch(
        /require\(["']@kubernetes\/client-node["']\)/,
      );
    }
  });

  it('reads the Rollout with the kubeconfig credentials, from the argoproj.io/v1alpha1 path', async () => {
    const out = JSON.parse(await runChild('shop', 'prod'));
    expect(out.found).toEqual(JSON.parse(JSON.stringify(rollouts.paused)));
    expect(requests).toContain('GET /apis/argoproj.io/v1alpha1/namespaces/prod/rollouts/shop Bearer walker-token');
  });

  it('a Rollout that does not exist (404) reads as undefined, not an error', async () => {
    expect(JSON.parse(await runChild('nope', 'prod'))).toEqual({ found: null });
  });
});
