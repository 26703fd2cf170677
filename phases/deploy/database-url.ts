/**
 * The parts of a postgres:// URL that the @pulumi/postgresql provider and the role plan need.
 * Pure: the Pulumi program applies it to the secret config values.
 */
import { ConfigError } from './config-error';

export interface DatabaseConnection {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  readonly database: string;
  /** `sslmode` from the query string, one of libpq's modes; absent when the URL does not say. */
  readonly sslmode?: LibpqSslMode;
}

/** The sslmode values libpq accepts, in its order of strictness. */
export const LIBPQ_SSLMODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type LibpqSslMode = (typeof LIBPQ_SSLMODES)[number];
/** What the postgresql provider's driver (lib/pq) accepts: no allow, no prefer, and `require` when unset. */
export type ProviderSslMode = 'disable' | 'require' | 'verify-ca' | 'verify-full';

function isLibpqSslMode(v: string): v is LibpqSslMode {
  return (LIBPQ_SSLMODES as readonly string[]).includes(v);
}

/** localhost, 127.0.0.0/8 or ::1: a connection that never leaves the machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * The sslmode to give the postgresql provider for a URL, keeping libpq's meaning (what psql, the
 * tandem CLI and every other client make of the same URL):
 * - disable, require, verify-ca, verify-full: passed through; lib/pq means the same by them.
 * - absent, `prefer` or `allow`: libpq tries TLS and falls back to plain text (absent means
 *   `prefer`). lib/pq cannot fall back, and its own default, `require`, fails against a server
 *   without TLS (`pq: SSL is not enabled on the server`) at the first `up`, which no preview shows.
 *   On a loopback host the connection never leaves the machine, so it becomes `disable`, which is
 *   what libpq ends up with against a local server without TLS. Anywhere else Tandem will not
 *   guess between failing and sending the password in plain text: it asks the URL to say which.
 */
export function providerSslMode(key: string, conn: Pick<DatabaseConnection, 'host' | 'sslmode'>): ProviderSslMode {
  const mode = conn.sslmode;
  if (mode === 'disable' || mode === 'require' || mode === 'verify-ca' || mode === 'verify-full') return mode;
  if (isLoopbackHost(conn.host)) return 'disable';
  const said = mode === undefined ? 'has no sslmode (libpq reads that as prefer)' : `has sslmode=${mode}`;
  throw new ConfigError(
    key,
    `${said}, which the postgresql provider cannot do for ${conn.host}: it has no plain-text fallback. ` +
      'Add ?sslmode=require (or verify-full) if the server has TLS, or ?sslmode=disable if it has none',
  );
}

/** Parse `postgres://user:password@host:port/database?sslmode=...`; `key` names the config value in errors. */
export function parseDatabaseUrl(key: string, url: string): DatabaseConnection {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(key, 'is not a URL; expected postgres://user:password@host:5432/database');
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new ConfigError(key, `has scheme ${u.protocol.replace(/:$/, '')}; expected postgres://`);
  }
  const username = decodeURIComponent(u.username);
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!u.hostname) throw new ConfigError(key, 'names no host (host sockets are not supported here)');
  if (!username) throw new ConfigError(key, 'names no user');
  if (!database) throw new ConfigError(key, 'names no database');
  const sslmode = u.searchParams.get('sslmode');
  if (sslmode !== null && !isLibpqSslMode(sslmode)) {
    throw new ConfigError(key, `has sslmode=${sslmode}; use one of ${LIBPQ_SSLMODES.join(', ')}`);
  }
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 5432,
    username,
    password: decodeURIComponent(u.password),
    database,
    ...(sslmode !== null ? { sslmode } : {}),
  };
}

/** Parse a URL that must log in as `role`; a mismatch names the config key and both roles. */
export function parseLoginUrl(key: string, url: string, role: string): DatabaseConnection {
  const conn = parseDatabaseUrl(key, url);
  if (conn.username !== role) {
    throw new ConfigError(
      key,
      `logs in as "${conn.username}" but the role is configured as "${role}"; make them the same`,
    );
  }
  return conn;
}
