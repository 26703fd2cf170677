import * as http from 'http';
import { CustomerStore } from './customer-store';

/**
 * The demo app's HTTP API (node:http, no framework):
 *   GET  /healthz            -> 200 {"version"}
 *   GET  /customers          -> 200 [customer]
 *   GET  /customers/:id      -> 200 customer | 404
 *   POST /customers {name}   -> 201 customer
 *   PUT  /customers/:id {name} -> 200 customer | 404
 * Every response names the app version (x-app-version), so a canary's split is visible.
 */
export function createAppServer(store: CustomerStore): http.Server {
  return http.createServer((req, res) => {
    handle(store, req, res).catch((err: unknown) => {
      send(res, store, 500, { error: err instanceof Error ? err.message : String(err) });
    });
  });
}

const MAX_BODY_BYTES = 64 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function handle(store: CustomerStore, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://app');
  const parts = url.pathname.split('/').filter(Boolean);
  try {
    if (parts.length === 1 && parts[0] === 'healthz' && req.method === 'GET')
      return send(res, store, 200, { version: store.version });
    if (parts[0] !== 'customers' || parts.length > 2)
      throw new HttpError(404, `no route for ${req.method} ${url.pathname}`);
    const id = parts[1];
    if (id !== undefined && !/^\d+$/.test(id)) throw new HttpError(404, `customer id must be a number, not "${id}"`);
    if (id === undefined && req.method === 'GET') return send(res, store, 200, await store.list());
    if (id === undefined && req.method === 'POST')
      return send(res, store, 201, await store.create(await readName(req)));
    if (id !== undefined && req.method === 'GET') return found(res, store, id, await store.get(id));
    if (id !== undefined && req.method === 'PUT')
      return found(res, store, id, await store.rename(id, await readName(req)));
    throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}`);
  } catch (err) {
    if (err instanceof HttpError) return send(res, store, err.status, { error: err.message });
    throw err;
  }
}

function found(res: http.ServerResponse, store: CustomerStore, id: string, customer: unknown): void {
  if (customer === undefined) send(res, store, 404, { error: `customer ${id} does not exist` });
  else send(res, store, 200, customer);
}

async function readName(req: http.IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `request body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'request body must be JSON like {"name": "John Vin"}');
  }
  const name = (body as { name?: unknown } | null)?.name;
  if (typeof name !== 'string' || name.trim() === '')
    throw new HttpError(400, 'request body needs a non-empty "name" string');
  return name;
}

function send(res: http.ServerResponse, store: CustomerStore, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'x-app-version': store.version,
  });
  res.end(text);
}
