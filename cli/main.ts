import { UsageError } from '../phases/errors';
import { parseArgs } from './args';
import { Command, GLOBAL_FLAGS } from './command';
import { COMMANDS } from './commands';
import { ExitCode } from './exit-code';
import { createOutput, Output } from './output';

/** package.json sits above both cli/ (ts-jest) and dist/cli/ (built). */
function packageVersion(): string {
  const fs = require('fs') as typeof import('fs');
  const path = require('path') as typeof import('path');
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
    'Run `tandem <command> --help` for a command\'s options.',
    'Exit codes: 0 success, 1 refused or failed, 2 invalid input or usage.',
  ].join('\n');
}

function commandHelp(cmd: Command): string {
  const flags = { ...cmd.flags, ...GLOBAL_FLAGS };
  const lines = Object.entries(flags).map(([name, f]) => {
    const left = `--${name}${f.value ? ' ' + f.value : ''}`;
    return `  ${left.padEnd(24)}  ${f.description}`;
  });
  return [`Usage: tandem ${cmd.name} ${cmd.usage}`, '', cmd.summary, '', 'Options:', ...lines].join('\n');
}

/** Map any error onto the exit-code contract: one sentence, no stack unless --debug. */
export function reportError(err: unknown, out: Output, debug: boolean): ExitCode {
  const e = err as { exitCode?: number; message?: string; stack?: string };
  const code = e?.exitCode === ExitCode.BadInput ? ExitCode.BadInput : ExitCode.Failed;
  const message = (e?.message ?? String(err)).trim();
  out.info(`${out.fail(code === ExitCode.BadInput ? 'invalid input' : 'failed')}: ${message}`);
  if (debug && e?.stack) out.info(e.stack);
  return code;
}

export async function main(argv: string[], out: Output = createOutput(), env: NodeJS.ProcessEnv = process.env): Promise<ExitCode> {
  const [name, ...rest] = argv;
  const debug = rest.includes('--debug');
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
    if (!cmd) throw new UsageError(`unknown command "${name}"; commands are: ${COMMANDS.map((c) => c.name).join(', ')}`);
    const args = parseArgs(rest, { ...cmd.flags, ...GLOBAL_FLAGS });
    if (args.flags.help) {
      out.line(commandHelp(cmd));
      return ExitCode.Ok;
    }
    return await cmd.run({ args, out, json: Boolean(args.flags.json), env });
  } catch (err) {
    return reportError(err, out, debug);
  }
}
