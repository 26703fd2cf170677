import { Client } from 'pg';

/** The test PostgreSQL started by test/global-setup.ts. */
export function serverUrl(): string {
  const url = process.env.TANDEM_TEST_PG_URL;
  if (!url)
    throw new Error(
      'TANDEM_TEST_PG_URL is not set: run the tests through jest (npm test), whose global setup starts PostgreSQL.',
    );
  return url;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = '/' + encodeURIComponent(database);
  return u.toString();
}

let counter = 0;

/** A new, empty database on the test server; returns its URL. */
export async function freshDatabase(prefix = 't'): Promise<string> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_');
  const admin = new Client({ connectionString: serverUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  return withDatabase(serverUrl(), name);
}

/** Connect, run fn, always disconnect. */
export async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Run SQL (several statements allowed) on a database. */
export async function sql(url: string, text: string, values?: unknown[]): Promise<any[]> {
  return withClient(url, async (c) => (await c.query(text, values as any[])).rows);
}
