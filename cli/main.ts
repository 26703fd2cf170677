import * as fs from 'fs';
import * as path from 'path';
import { ConnectionError, ConnectionLostError, isConnectionLoss } from '../executor/errors';
import { UsageError } from '../phases/errors';
import { flagHelp, flagUsage, parseArgs } from './args';
import { Command, GLOBAL_FLAGS } from './command';
import { COMMANDS } from './commands';
import { ExitCode } from './exit-code';
import { createOutput, Output } from './output';
import { errorJson, failureOutcome } from './outcome';
import { activity } from './activity';
import { errorField, errorMessage } from '../phases/error-fields';

/** package.json sits above both cli/ (ts-jest) and dist/cli/ (built). */
function packageVersion(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')).version;
  }
  return 'unknown';
}

function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'tandem: schema refactorings that ride along with canary releases, one safe step at a time.',
    '',
    'Usage: tandem <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run `tandem <command> --help` (or -h) for a command's options.",
    'Exit codes: 0 success, 1 refused or failed (a lost connection too), 2 invalid input or usage, 130/143 stopped by SIGINT/SIGTERM.',
  ].join('\n');
}

/** `tandem NAME ARGS --required V [--flag V] ...`: every flag the command takes, from its flag table. */
export function usageLine(cmd: Command): string {
  const flags = Object.entries({ ...cmd.flags, ...GLOBAL_FLAGS });
  const ordered = [...flags.filter(([, f]) => f.required), ...flags.filter(([, f]) => !f.required)];
  return ['tandem', cmd.name, cmd.usage, ...ordered.map(([name, f]) => flagUsage(name, f))]
    .filter((part) => part !== '')
    .join(' ');
}

export function commandHelp(cmd: Command): string {
  const flags = { ...cmd.flags, ...GLOBAL_FLAGS };
  const lines = Object.entries(flags).map(([name, f]) => {
    const left = `--${name}${f.value ? ' ' + f.value : ''}`;
    return `  ${left.padEnd(24)}  ${flagHelp(f)}`;
  });
  return [`Usage: ${usageLine(cmd)}`, '', cmd.summary, '', 'Options:', ...lines].join('\n');
}

/** What resumes the command, for the sentence after an interruption or a lost connection. */
function resumeHint(): string {
  const cmd = activity.command;
  const spec = activity.specPath ?? 'SPEC';
  if (!cmd) return 'run the command again';
  if (cmd === 'rehearse')
    return `its scratch server is removed with it (in a database given with --database-url, the rehearsal's table and app role may remain: drop them), then run tandem rehearse ${spec} again`;
  if (cmd === 'backfill')
    return `every committed batch kept its checkpoint in tandem.migrations and the open batch was rolled back: resume with tandem backfill ${spec}`;
  if (['expand', 'contract', 'rollback', 'validate'].includes(cmd)) {
    return `PostgreSQL rolls back the open transaction of a lost session, so nothing of it is half-done and the recorded state is kept: check with tandem status ${spec}, then run tandem ${cmd} ${spec} again (a finished step is not redone)`;
  }
  return `nothing was changed: run tandem ${cmd} ${spec} again`;
}

/** A lost connection, in one sentence: where it stopped, that the checkpoint is kept, what resumes. */
function connectionLost(err: unknown): ConnectionLostError {
  if (err instanceof ConnectionLostError && !activity.command) return err;
  const field = (name: string): string | undefined => {
    const v = errorField(err, name);
    return typeof v === 'string' ? v : undefined;
  };
  const statementId = field('statementId');
  const where =
    field('where') ??
    (statementId ? `at "${statementId}"` : activity.last ? `after "${activity.last}"` : 'before any progress');
  const reason = (field('reason') ?? field('pgMessage') ?? errorMessage(err)).split('\n')[0];
  return new ConnectionLostError(
    activity.command ? `tandem ${activity.command}` : (field('step') ?? 'the step'),
    where,
    resumeHint(),
    reason,
  );
}

/** Map any error onto the exit-code contract: one sentence, no stack unless --debug; with --json also one JSON object on stdout. */
export function reportError(err: unknown, out: Output, debug: boolean, json = false): ExitCode {
  const e: unknown = !(err instanceof ConnectionError) && isConnectionLoss(err) ? connectionLost(err) : err;
  const code = errorField(e, 'exitCode') === ExitCode.BadInput ? ExitCode.BadInput : ExitCode.Failed;
  const message = errorMessage(e).trim();
  out.endProgress();
  out.info(`${out.fail(code === ExitCode.BadInput ? 'invalid input' : 'failed')}: ${message}`);
  const stack = errorField(e, 'stack');
  if (debug && typeof stack === 'string') out.info(stack);
  if (json) out.line(JSON.stringify(failureOutcome(errorJson(e, message), code)));
  return code;
}

/** Ctrl-C (SIGINT, exit 130) or SIGTERM (exit 143) mid-step: one sentence, the JSON object with --json, and out. */
export function interrupted(signal: 'SIGINT' | 'SIGTERM', out: Output, json: boolean): ExitCode {
  const code = signal === 'SIGINT' ? ExitCode.Interrupted : ExitCode.Terminated;
  const cmd = activity.command ? `tandem ${activity.command}` : 'tandem';
  const where = activity.last ? `after "${activity.last}"` : 'before it reported any progress';
  const message = `${cmd} was stopped by ${signal} ${where}; ${resumeHint()}`;
  out.endProgress();
  out.info(`${out.fail('interrupted')}: ${message}`);
  if (json)
    out.line(
      JSON.stringify(
        failureOutcome(
          { kind: 'interrupted', message, signal, command: activity.command ?? null, spec: activity.specPath ?? null },
          code,
        ),
      ),
    );
  return code;
}

/** The real process: main() with SIGINT/SIGTERM handled (the bin script calls this). */
export async function cliEntry(argv: string[]): Promise<ExitCode> {
  const out = createOutput();
  const json = argv.includes('--json');
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      const code = interrupted(signal, out, json);
      // Another part cleans up first (the rehearsal stops its scratch server) and re-raises the signal.
      if (process.listenerCount(signal) > 0) return;
      // Exiting closes the connection: PostgreSQL rolls back whatever transaction was open.
      process.exit(code);
    });
  }
  return main(argv, out);
}

export async function main(
  argv: string[],
  out: Output = createOutput(),
  env: NodeJS.ProcessEnv = process.env,
): Promise<ExitCode> {
  const [name, ...rest] = argv;
  const debug = rest.includes('--debug');
  const json = rest.includes('--json');
  activity.command = undefined;
  activity.specPath = undefined;
  activity.last = undefined;
  activity.warnings = [];
  if (!name || name === '--help' || name === 'help' || name === '-h') {
    out.line(helpText());
    return name ? ExitCode.Ok : ExitCode.BadInput;
  }
  if (name === '--version') {
    out.line(packageVersion());
    return ExitCode.Ok;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  try {
    if (!cmd)
      throw new UsageError(`unknown command "${name}"; commands are: ${COMMANDS.map((c) => c.name).join(', ')}`);
    if (rest.includes('-h')) {
      out.line(commandHelp(cmd));
      return ExitCode.Ok;
    }
    const args = parseArgs(rest, { ...cmd.flags, ...GLOBAL_FLAGS });
    if (args.flags.help) {
      out.line(commandHelp(cmd));
      return ExitCode.Ok;
    }
    return await cmd.run({ args, out, json: Boolean(args.flags.json), env });
  } catch (err) {
    return reportError(err, out, debug, json);
  }
}
