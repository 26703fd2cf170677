import { Client } from 'pg';
import { UsageError } from '../phases/errors';
import { ConnectionError } from './errors';

/** host:port/database, without credentials, for messages. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '5432'}${u.pathname || '/'}`;
  } catch {
    return '(unparseable URL)';
  }
}

export function checkDatabaseUrl(url: string | undefined): string {
  if (!url) throw new UsageError('no database given: set DATABASE_URL or pass --database-url');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError('the database URL is not a URL; expected postgres://user:password@host:5432/database');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new UsageError(`the database URL must start with postgres:// or postgresql://, not ${parsed.protocol}//`);
  }
  return url;
}

/**
 * Run SQL over the extended protocol, which executes exactly one statement whatever an
 * expression inside it holds (node-postgres types lack `queryMode`, hence the cast).
 */
export function querySingle(client: Client, text: string, values?: unknown[]) {
  return client.query({ text, values, queryMode: 'extended' } as any);
}

/** A connection named `tandem` in pg_stat_activity, so DBAs see who holds or waits for a lock. */
export async function connect(url: string, applicationName = 'tandem'): Promise<Client> {
  checkDatabaseUrl(url);
  const client = new Client({
    connectionString: url,
    application_name: applicationName,
    connectionTimeoutMillis: 10_000,
    // Checkpoint keys are stored as text: pin the settings that change how dates and times print.
    options: '-c DateStyle=ISO,YMD -c TimeZone=UTC -c IntervalStyle=postgres',
  });
  client.on('error', () => {
    /* a dropped connection surfaces on the next query */
  });
  try {
    await client.connect();
  } catch (err: any) {
    await client.end().catch(() => undefined);
    throw new ConnectionError(describeUrl(url), err?.message ?? String(err));
  }
  return client;
}
