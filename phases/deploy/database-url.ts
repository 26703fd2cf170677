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
  /** `sslmode` from the query string; absent when the URL does not say (the provider's default applies). */
  readonly sslmode?: string;
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
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 5432,
    username,
    password: decodeURIComponent(u.password),
    database,
    // Only what the URL says: the postgresql provider's driver rejects some modes (e.g. prefer) that libpq accepts.
    ...(u.searchParams.get('sslmode') ? { sslmode: u.searchParams.get('sslmode')! } : {}),
  };
}

/** Parse a URL that must log in as `role`; a mismatch names the config key and both roles. */
export function parseLoginUrl(key: string, url: string, role: string): DatabaseConnection {
  const conn = parseDatabaseUrl(key, url);
  if (conn.username !== role) {
    throw new ConfigError(key, `logs in as "${conn.username}" but the role is configured as "${role}"; make them the same`);
  }
  return conn;
}
