import { TandemError } from '../phases/errors';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { findPostgresBin } from './scratch-postgres';

/** A client tool of the local PostgreSQL (psql, pg_dump) failed; the message names it and its last lines. */
export class PgToolError extends TandemError {
  readonly kind = 'pg_tool';
  readonly exitCode = 1;
  constructor(
    readonly tool: string,
    message: string,
  ) {
    super(message);
    this.name = 'PgToolError';
  }
}

function tool(name: 'psql' | 'pg_dump'): string {
  const bin = path.join(findPostgresBin(), name);
  if (!fs.existsSync(bin)) throw new PgToolError(name, `${name} was not found next to initdb in ${path.dirname(bin)}`);
  return bin;
}

/** Server settings for a client that must never write: every transaction it opens is read-only. */
export const READ_ONLY_OPTIONS = '-c default_transaction_read_only=on';

export interface ToolRun {
  readonly args: readonly string[];
  readonly input?: string;
  /** PGOPTIONS for the session, e.g. READ_ONLY_OPTIONS. */
  readonly options?: string;
  /** What the run is for, in the error message. */
  readonly what: string;
}

function run(name: 'psql' | 'pg_dump', r: ToolRun): string {
  const env = { ...process.env, PGOPTIONS: r.options ?? '', PGCONNECT_TIMEOUT: '10' };
  const result = spawnSync(tool(name), r.args as string[], {
    input: r.input,
    encoding: 'utf8',
    env,
    maxBuffer: 1 << 30,
  });
  if (result.status !== 0) {
    const detail = (result.stderr || String(result.error ?? '') || `exit ${result.status}`)
      .trim()
      .split('\n')
      .filter(Boolean)
      .slice(-3)
      .join(' ');
    throw new PgToolError(name, `${r.what} failed: ${detail}`);
  }
  return result.stdout;
}

/** Run SQL text through psql, stopping at the first error. */
export function psqlScript(url: string, sql: string, what: string): void {
  run('psql', { args: ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-f', '-'], input: sql, what });
}

/** `\copy (query) TO STDOUT` from a read-only session: the rows in COPY's text format. */
export function copyOut(url: string, query: string, what: string): string {
  return run('psql', {
    args: ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', `\\copy (${query.replace(/\n/g, ' ')}) TO STDOUT`],
    options: READ_ONLY_OPTIONS,
    what,
  });
}

/** `\copy table (columns) FROM STDIN`, with triggers and foreign keys off (replica mode) as a restore does. */
export function copyIn(url: string, target: string, data: string, what: string): void {
  run('psql', {
    args: ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', `\\copy ${target} FROM STDIN`],
    input: data,
    options: '-c session_replication_role=replica',
    what,
  });
}

/** pg_dump --schema-only of the given tables and sequences (read-only by construction). */
export function dumpSchema(url: string, relations: readonly string[]): string {
  const args = [
    '--schema-only',
    '--no-owner',
    '--no-privileges',
    '--no-publications',
    '--no-subscriptions',
    '--no-security-labels',
    '--strict-names',
    '-d',
    url,
  ];
  for (const r of relations) args.push('-t', r);
  return run('pg_dump', { args, options: READ_ONLY_OPTIONS, what: 'pg_dump --schema-only of the source database' });
}
