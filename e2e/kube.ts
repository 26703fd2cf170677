/**
 * A minimal Kubernetes API client for the end-to-end tooling: HTTPS with the credentials of a
 * kubeconfig (client certificate, bearer token, CA), JSON in and out. No @kubernetes/client-node:
 * that is an ES module jest cannot load, and the job runner must run inside a jest process.
 */
import * as fs from 'fs';
import * as https from 'https';
import * as http from 'http';
import * as path from 'path';
import { URL } from 'url';
import * as YAML from 'yaml';

export class KubeError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly body: unknown,
  ) {
    super(message);
  }
}

export interface KubeClient {
  readonly server: string;
  request<T = any>(method: string, apiPath: string, body?: unknown, contentType?: string): Promise<T>;
}

function fileOrData(base: string, file?: string, data?: string): Buffer | undefined {
  if (data) return Buffer.from(data, 'base64');
  if (file) return fs.readFileSync(path.resolve(base, file));
  return undefined;
}

/** A client for the current context of KUBECONFIG (or the given file). */
export function kubeClientFromKubeconfig(
  kubeconfigPath = process.env.KUBECONFIG ?? path.join(process.env.HOME ?? '', '.kube', 'config'),
): KubeClient {
  const doc = YAML.parse(fs.readFileSync(kubeconfigPath, 'utf8'));
  const base = path.dirname(kubeconfigPath);
  const ctxName = doc['current-context'];
  const ctx = (doc.contexts ?? []).find((c: any) => c.name === ctxName)?.context ?? doc.contexts?.[0]?.context;
  if (!ctx) throw new Error(`${kubeconfigPath}: no context`);
  const cluster = (doc.clusters ?? []).find((c: any) => c.name === ctx.cluster)?.cluster;
  const user = (doc.users ?? []).find((u: any) => u.name === ctx.user)?.user ?? {};
  if (!cluster?.server) throw new Error(`${kubeconfigPath}: no server for context ${ctxName}`);
  const server: string = cluster.server.replace(/\/$/, '');
  const agentOptions: https.AgentOptions = {
    ca: fileOrData(base, cluster['certificate-authority'], cluster['certificate-authority-data']),
    cert: fileOrData(base, user['client-certificate'], user['client-certificate-data']),
    key: fileOrData(base, user['client-key'], user['client-key-data']),
    rejectUnauthorized: !cluster['insecure-skip-tls-verify'],
    keepAlive: true,
  };
  const agent = server.startsWith('https:') ? new https.Agent(agentOptions) : new http.Agent({ keepAlive: true });
  const token: string | undefined =
    user.token ?? (user.tokenFile ? fs.readFileSync(path.resolve(base, user.tokenFile), 'utf8').trim() : undefined);

  return {
    server,
    request<T>(method: string, apiPath: string, body?: unknown, contentType = 'application/json'): Promise<T> {
      const url = new URL(server + apiPath);
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const headers: Record<string, string> = { accept: 'application/json' };
      if (payload) {
        headers['content-type'] = contentType;
        headers['content-length'] = String(payload.length);
      }
      if (token) headers.authorization = `Bearer ${token}`;
      const mod = url.protocol === 'https:' ? https : http;
      return new Promise<T>((resolve, reject) => {
        const req = mod.request(url, { method, headers, agent: agent as any, timeout: 30_000 }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: any = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              /* not JSON */
            }
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300) resolve(parsed as T);
            else reject(new KubeError(`${method} ${apiPath}: ${code} ${parsed?.message ?? text}`, code, parsed));
          });
        });
        req.on('timeout', () => req.destroy(new Error(`${method} ${apiPath}: timed out`)));
        req.on('error', reject);
        if (payload) req.write(payload);
        req.end();
      });
    },
  };
}
