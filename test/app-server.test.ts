import { AddressInfo } from 'net';
import { Pool } from 'pg';
import { createAppServer } from '../app/server';
import { startApp } from '../app/main';
import { createStore } from '../app/versions';
import { customersTableSql } from '../rehearsal/demo-database';
import { freshDatabase, sql } from './db';

async function call(base: string, method: string, path: string, body?: unknown) {
  const res = await fetch(base + path, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  return { status: res.status, version: res.headers.get('x-app-version'), body: (await res.json()) as any };
}

describe('the demo app HTTP API', () => {
  let url: string;
  let pool: Pool;
  let server: ReturnType<typeof createAppServer>;
  let base: string;

  beforeAll(async () => {
    url = await freshDatabase('appserver');
    await sql(url, customersTableSql());
    pool = new Pool({ connectionString: url, max: 2 });
    server = createAppServer(createStore('v1', pool));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await pool.end();
  });

  it('creates, renames, gets and lists customers, naming its version on every response', async () => {
    const created = await call(base, 'POST', '/customers', { name: 'Ada Lovelace' });
    expect(created).toMatchObject({
      status: 201,
      version: 'v1',
      body: { name: 'Ada Lovelace', columns: { full_name: 'Ada Lovelace' } },
    });
    const id = created.body.id;
    expect(await call(base, 'PUT', `/customers/${id}`, { name: 'Augusta Ada King' })).toMatchObject({
      status: 200,
      body: { id, name: 'Augusta Ada King' },
    });
    expect(await call(base, 'GET', `/customers/${id}`)).toMatchObject({
      status: 200,
      body: { id, name: 'Augusta Ada King' },
    });
    expect((await call(base, 'GET', '/customers')).body.map((c: { name: string }) => c.name)).toContain(
      'Augusta Ada King',
    );
    expect(await call(base, 'GET', '/healthz')).toMatchObject({ status: 200, body: { version: 'v1' } });
  });

  it.each([
    ['GET', '/customers/424242', undefined, 404],
    ['PUT', '/customers/424242', { name: 'Nobody' }, 404],
    ['GET', '/customers/abc', undefined, 404],
    ['GET', '/nowhere', undefined, 404],
    ['DELETE', '/customers', undefined, 405],
    ['POST', '/customers', { name: '   ' }, 400],
    ['POST', '/customers', { nom: 'Ada' }, 400],
  ])('%s %s %j answers %i with an error message', async (method, path, body, status) => {
    const res = await call(base, method, path, body);
    expect(res.status).toBe(status);
    expect(typeof res.body.error).toBe('string');
  });

  it('answers 500 with the database error when the data layer fails', async () => {
    const broken = createAppServer(createStore('v3', pool));
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    try {
      const res = await call(`http://127.0.0.1:${(broken.address() as AddressInfo).port}`, 'GET', '/customers');
      expect(res.status).toBe(500);
      expect(res.body.error).toMatch(/first_name/);
    } finally {
      await new Promise<void>((resolve) => broken.close(() => resolve()));
    }
  });
});

describe('startApp (the container entry point)', () => {
  it.each([
    [{ DATABASE_URL: 'postgres://x@127.0.0.1/x' }, /APP_VERSION must be v1, v2 or v3, not unset/],
    [{ APP_VERSION: 'v4', DATABASE_URL: 'postgres://x@127.0.0.1/x' }, /not "v4"/],
    [{ APP_VERSION: 'v2' }, /DATABASE_URL must be set/],
  ])('refuses %j', async (env, message) => {
    await expect(startApp(env)).rejects.toThrow(message);
  });

  it('serves the version APP_VERSION names', async () => {
    const url = await freshDatabase('appmain');
    await sql(url, customersTableSql());
    const app = await startApp({ APP_VERSION: 'v1', DATABASE_URL: url, PORT: '0' });
    try {
      expect(await call(`http://127.0.0.1:${app.port}`, 'GET', '/healthz')).toMatchObject({
        status: 200,
        body: { version: 'v1' },
      });
    } finally {
      await app.close();
    }
  });
});
