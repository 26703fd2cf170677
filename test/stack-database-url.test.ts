/**
 * How the migrator's URL reaches the postgresql provider (sslmode with libpq's meaning), and why a
 * rotation of it is no schema step for the walker (the postgresql provider's in-place update is neutral).
 */
import { spawnSync } from 'child_process';
import { ConfigError } from '../phases/deploy/config-error';
import { isLoopbackHost, parseDatabaseUrl, providerSslMode } from '../phases/deploy/database-url';
import { checkPreview, classifyChanges } from '../phases/deploy/preview-check';
import { serverUrl } from './db';

const mode = (url: string) => providerSslMode('tandem:databaseUrl', parseDatabaseUrl('tandem:databaseUrl', url));

describe('providerSslMode', () => {
  it.each([
    ['postgres://u:p@localhost/db', 'disable'],
    ['postgres://u:p@127.0.0.1/db', 'disable'],
    ['postgres://u:p@127.8.9.10/db?sslmode=prefer', 'disable'],
    ['postgres://u:p@[::1]/db?sslmode=allow', 'disable'],
    ['postgres://u:p@db.internal/db?sslmode=disable', 'disable'],
    ['postgres://u:p@db.internal/db?sslmode=require', 'require'],
    ['postgres://u:p@localhost/db?sslmode=require', 'require'],
    ['postgres://u:p@db.internal/db?sslmode=verify-ca', 'verify-ca'],
    ['postgres://u:p@db.internal/db?sslmode=verify-full', 'verify-full'],
  ])('%s -> %s', (url, expected) => {
    expect(mode(url)).toBe(expected);
  });

  it.each([
    ['postgres://u:p@db.internal/db', 'has no sslmode (libpq reads that as prefer)'],
    ['postgres://u:p@db.internal/db?sslmode=prefer', 'has sslmode=prefer'],
    ['postgres://u:p@10.0.0.7/db?sslmode=allow', 'has sslmode=allow'],
    ['postgres://u:p@localhost.example.com/db', 'has no sslmode'],
  ])('%s off loopback: a ConfigError asking the URL to say require or disable', (url, said) => {
    let err: unknown;
    try {
      mode(url);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).key).toBe('tandem:databaseUrl');
    expect((err as Error).message).toContain(said);
    expect((err as Error).message).toContain('?sslmode=require');
    expect((err as Error).message).toContain('?sslmode=disable');
  });

  it('an sslmode libpq does not know is a ConfigError naming the modes', () => {
    expect(() => parseDatabaseUrl('tandem:databaseUrl', 'postgres://u:p@db/db?sslmode=on')).toThrow(
      /sslmode=on; use one of disable, allow, prefer, require, verify-ca, verify-full/,
    );
  });

  it.each([
    ['localhost', true],
    ['LOCALHOST', true],
    ['127.0.0.1', true],
    ['[::1]', true],
    ['127.0.0.1.nip.io', false],
    ['10.0.0.1', false],
    ['db', false],
  ])('isLoopbackHost(%s) is %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});

describe("a rotated migrator URL in the walker's preview", () => {
  const provider = {
    urn: 'urn:pulumi:dev::tandem::pulumi:providers:postgresql::migrator',
    type: 'pulumi:providers:postgresql',
    op: 'update',
  };
  const rollout = {
    urn: 'urn:pulumi:dev::tandem::tandem:app:AppRollout$kubernetes:argoproj.io/v1alpha1:Rollout::tandem-demo-rollout',
    type: 'kubernetes:argoproj.io/v1alpha1:Rollout',
    op: 'update',
  };

  it("the provider's in-place update is neutral, so an app step with it is allowed", () => {
    expect(classifyChanges([provider]).neutral).toEqual([provider]);
    const checked = checkPreview({ from: 'expand', to: 'dual-write', side: 'app' } as any, [provider, rollout]);
    expect(checked.app).toEqual([rollout]);
    expect(checked.schema).toEqual([]);
  });

  it("a replacement of it still counts as schema (it replaces what it manages), and so does any other provider's update on its side", () => {
    expect(classifyChanges([{ ...provider, op: 'replace' }]).schema).toHaveLength(1);
    expect(classifyChanges([{ ...provider, type: 'pulumi:providers:kubernetes', op: 'update' }]).app).toHaveLength(1);
  });
});

describe('against the test PostgreSQL, which has no TLS', () => {
  const PSQL = '/usr/lib/postgresql/15/bin/psql';
  /** Connect with libpq as the provider would be configured: host, port, user, database, sslmode. */
  const connectWith = (url: string, sslmode: string) => {
    const c = parseDatabaseUrl('k', url);
    const conninfo = `host=${c.host} port=${c.port} user=${c.username} dbname=${c.database} sslmode=${sslmode} connect_timeout=10`;
    return spawnSync(PSQL, [conninfo, '-Atc', 'SELECT 1'], {
      encoding: 'utf8',
      env: { ...process.env, PGPASSWORD: c.password },
    });
  };

  it("the URL without sslmode gets disable, which connects; require, the driver's own default, is refused by the server", () => {
    const url = serverUrl();
    expect(isLoopbackHost(new URL(url).hostname)).toBe(true);
    expect(new URL(url).searchParams.get('sslmode')).toBeNull();
    const chosen = providerSslMode('tandem:databaseUrl', parseDatabaseUrl('tandem:databaseUrl', url));
    expect(chosen).toBe('disable');
    const ok = connectWith(url, chosen);
    expect({ status: ok.status, out: ok.stdout.trim() }).toEqual({ status: 0, out: '1' });
    const required = connectWith(url, 'require');
    expect(required.status).not.toBe(0);
    expect(required.stderr).toContain('server does not support SSL');
  });
});
