/**
 * The stand-in for pulumi-command v1.2.1's `command:local:Command`, served as a provider plugin
 * by `@pulumi/pulumi/provider`'s main(). Installed as plugin `command` 1.2.1 by
 * e2e/command-provider/install.sh, because the Go module proxy serves no version of the real one
 * (e2e/README.md). The semantics are in semantics.ts; this file runs the commands.
 *
 * Create runs `create` (never in preview: the Node provider server does not ask for preview
 * creates); Update runs `update`, else `create`, else nothing; Delete runs the state's `delete`
 * with the state's environment, dir and interpreter. A failed run fails the step with no state.
 */
import { spawn } from 'child_process';
import type * as provider from '@pulumi/pulumi/provider';
import {
  checkInputs,
  commandArgv,
  commandEnv,
  diffInputs,
  newId,
  PreviousOutputs,
  runFailure,
  trimOneNewline,
  unwrap,
  urnName,
} from './semantics';

export const PROVIDER_VERSION = '1.2.1';
export const COMMAND_TYPE = 'command:local:Command';

interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs one command as v1.2.1 does; rejects with its error message on a non-zero exit. */
export function runCommand(
  command: string,
  inputs: Record<string, unknown>,
  previous: PreviousOutputs,
): Promise<RunResult> {
  const [file, ...args] = commandArgv(command, inputs);
  const dir = unwrap(inputs.dir) as string | undefined;
  const stdin = unwrap(inputs.stdin) as string | undefined;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: dir ?? process.cwd(),
      env: commandEnv(process.env, inputs, previous),
      stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let combined = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => ((stdout += d), (combined += d)));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => ((stderr += d), (combined += d)));
    if (stdin) child.stdin!.end(stdin);
    child.on('error', (err) => reject(new Error(`${err.message}: running ${JSON.stringify(command)}:\n`)));
    child.on('close', (status, signal) => {
      if (status === 0) resolve({ stdout: trimOneNewline(stdout), stderr: trimOneNewline(stderr) });
      else reject(new Error(runFailure(command, status, signal, combined)));
    });
  });
}

const commandOf = (v: unknown): string | undefined => {
  const s = unwrap(v);
  return typeof s === 'string' ? s : undefined;
};

export const commandProvider: provider.Provider = {
  version: PROVIDER_VERSION,

  async check(urn, _olds, news) {
    const failures = checkInputs(news);
    return { inputs: news, failures };
  },

  async diff(_id, _urn, olds, news) {
    return diffInputs(olds, news);
  },

  async create(urn, inputs) {
    const id = newId(urnName(urn));
    const create = commandOf(inputs.create);
    const out = create === undefined ? { stdout: '', stderr: '' } : await runCommand(create, inputs, {});
    return { id, outs: { ...inputs, ...out } };
  },

  async update(_id, _urn, olds, news) {
    const command = commandOf(news.update) ?? commandOf(news.create);
    const previous = { stdout: olds.stdout ?? '', stderr: olds.stderr ?? '' };
    const out = command === undefined ? previous : await runCommand(command, news, previous);
    return { outs: { ...news, ...out } };
  },

  async delete(_id, _urn, props) {
    const del = commandOf(props.delete);
    if (del === undefined) return;
    await runCommand(del, props, { stdout: props.stdout, stderr: props.stderr });
  },
};

if (require.main === module) {
  const { main } = require('@pulumi/pulumi/provider') as typeof provider;
  void main(commandProvider, process.argv.slice(2));
}
