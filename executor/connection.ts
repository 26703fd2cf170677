import { Client, ClientConfig, QueryConfig } from 'pg';
import { parse as parseConnectionString } from 'pg-connection-string';
import { UsageError } from '../phases/errors';
import { ConnectionError } from './errors';
import { evaluationStartupOptions } from '../phases/sql/plans/evaluation-settings';
import { errorMessage } from '../phases/error-fields';

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
/** The server's reason for ending a connection, kept from its 'error' event until the next query fails. */
const lostReasons = new WeakMap<Client, string>();

/** Why the server ended this connection, when it said so (e.g. an idle-in-transaction timeout). */
export function lostReason(client: Client, err: unknown): string {
  return lostReasons.get(client) ?? errorMessage(err);
}

export function querySingle(client: Client, text: string, values?: unknown[]) {
  return client.query({ text, values, queryMode: 'extended' } as QueryConfig);
}

/** libpq's sslmode values; node-postgres gives some of them other meanings unless asked for libpq's. */
const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
type SslMode = (typeof SSL_MODES)[number];

/**
 * The connection settings of a URL with libpq's meaning of sslmode (from the URL, else
 * PGSSLMODE): `require` encrypts without verifying the server, `verify-ca` checks the CA,
 * `verify-full` the host name too; `prefer` and `allow` fall back (see connect). Whatever the
 * URL leaves out, node-postgres takes from PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE.
 */
export function connectionConfig(
  url: string,
  env: NodeJS.ProcessEnv = process.env,
): { config: ClientConfig; sslmode: SslMode | undefined } {
  const u = new URL(url);
  const fromUrl = u.searchParams.get('sslmode') ?? undefined;
  const mode = fromUrl ?? (env.PGSSLMODE || undefined);
  if (mode !== undefined && !(SSL_MODES as readonly string[]).includes(mode)) {
    throw new UsageError(
      `sslmode "${mode}"${fromUrl ? ' in the database URL' : ' (PGSSLMODE)'} is not one of ${SSL_MODES.join(', ')}`,
    );
  }
  if (u.searchParams.has('uselibpqcompat')) u.searchParams.delete('uselibpqcompat');
  if (mode === 'allow' || mode === 'prefer') u.searchParams.set('sslmode', 'require');
  else if (mode) u.searchParams.set('sslmode', mode);
  const parsed = parseConnectionString(u.toString(), { useLibpqCompat: true }) as Omit<ClientConfig, 'port'> & {
    port?: string | number | null;
  };
  if (mode === 'allow') parsed.ssl = false; // libpq: try without encryption first
  const config: ClientConfig = { ...parsed, port: parsed.port ? Number(parsed.port) : undefined };
  for (const k of Object.keys(config) as (keyof ClientConfig)[])
    if (config[k] === undefined || config[k] === null) delete config[k];
  return { config, sslmode: mode as SslMode | undefined };
}

/**
 * A connection named `tandem` in pg_stat_activity, so DBAs see who holds or waits for a lock.
 * row_security = off: if a row-level security policy would filter what the executor reads or
 * writes, PostgreSQL raises an error instead of silently hiding rows.
 */
export async function connect(url: string, applicationName = 'tandem'): Promise<Client> {
  checkDatabaseUrl(url);
  const { config, sslmode } = connectionConfig(url);
  const open = async (ssl: ClientConfig['ssl']): Promise<Client> => {
    const client = new Client({
      ...config,
      ssl,
      application_name: applicationName,
      connectionTimeoutMillis: 10_000,
      // The settings `up`/`down` are evaluated under everywhere (the sync function pins the same ones);
      // checkpoint keys are stored as text, so they also fix how dates and times print.
      options: `${evaluationStartupOptions()} -c row_security=off`,
    });
    client.on('error', (err) => {
      // A dropped connection surfaces on the next query; keep the server's reason for the message.
      if (!lostReasons.has(client)) lostReasons.set(client, errorMessage(err));
    });
    try {
      await client.connect();
      return client;
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
  };
  try {
    try {
      return await open(config.ssl);
    } catch (err) {
      // libpq's fallbacks: prefer tries TLS then plain; allow tries plain then TLS.
      if (sslmode === 'prefer' && /does not support SSL/i.test(errorMessage(err))) return await open(false);
      if (sslmode === 'allow') return await open({ rejectUnauthorized: false });
      throw err;
    }
  } catch (err) {
    throw new ConnectionError(describeUrl(url), errorMessage(err));
  }
}
