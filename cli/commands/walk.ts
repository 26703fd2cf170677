import * as path from 'path';
import * as readline from 'readline';
import { createGates } from '../../automation/gates';
import { openLocalStack } from '../../automation/local-driver';
import { StackDriver } from '../../automation/stack-driver';
import { walk } from '../../automation/walk';
import { WalkEvent } from '../../automation/walk-events';
import { RefusedError, UsageError } from '../../phases/errors';
import { ClassifiedChanges } from '../../phases/deploy/preview-check';
import { isStage, Stage, STAGES } from '../../phases/deploy/stages';
import { WalkMove } from '../../phases/deploy/walk-path';
import { Command, CommandContext } from '../command';
import { ExitCode } from '../exit-code';
import { FlagSpec } from '../args';
import { Output } from '../output';
import { successOutcome } from '../outcome';

/** Flags `tandem walk` and `tandem plan` share. */
export const STACK_FLAGS: Readonly<Record<string, FlagSpec>> = {
  stack: { kind: 'string', value: 'NAME', required: true, description: 'the Pulumi stack to walk' },
  to: {
    kind: 'string',
    value: 'STAGE',
    required: true,
    description: `the stage of the current migration to walk to: ${STAGES.join(', ')}; or next: from a finished migration (contract) to the next one's baseline`,
  },
  project: {
    kind: 'string',
    value: 'DIR',
    description: 'the directory holding Pulumi.yaml (default: the current directory)',
  },
};

export interface StackArgs {
  readonly stack: string;
  readonly to: Stage | 'next';
  readonly projectDir: string;
}

export function stackArgs(ctx: CommandContext, command: string): StackArgs {
  const { stack, to, project } = ctx.args.flags as Record<string, string | undefined>;
  if (ctx.args.positionals.length)
    throw new UsageError(`tandem ${command} takes no arguments, but got: ${ctx.args.positionals.join(' ')}`);
  if (!stack) throw new UsageError(`tandem ${command} needs --stack NAME`);
  if (!to) throw new UsageError(`tandem ${command} needs --to STAGE (one of: ${STAGES.join(', ')})`);
  if (to !== 'next' && !isStage(to))
    throw new UsageError(`--to "${to}" is not a stage; stages are: ${STAGES.join(', ')} (or next)`);
  return { stack, to: to as Stage | 'next', projectDir: path.resolve(project ?? process.cwd()) };
}

export function openStack(ctx: CommandContext, args: StackArgs): Promise<StackDriver> {
  return openLocalStack({ stackName: args.stack, projectDir: args.projectDir, env: ctx.env });
}

const stepName = (from: Stage | null, to: Stage) => `${from ?? '(nothing deployed)'} -> ${to}`;

function counts(changes: Readonly<Record<string, number>>): string {
  const parts = Object.entries(changes)
    .filter(([op, n]) => op !== 'same' && n > 0)
    .map(([op, n]) => `${op} ${n}`);
  return parts.length ? parts.join(', ') : 'no changes';
}

/** Prints events; status() replaces the live line (gate waits); stop() ends the ticker. */
export type WalkEventPrinter = ((e: WalkEvent) => void) & { status(text: string): void; stop(): void };

/**
 * Text rendering of the walker's events: a line per stage with its elapsed time; in between, a
 * live progress line (what the step is doing, and for how long) refreshed every second, so a long
 * backfill or canary wait never looks stuck. Call stop() when the walk ends, however it ends.
 */
export function walkEventPrinter(out: Output, now: () => number = Date.now): WalkEventPrinter {
  let status = '';
  let since = now();
  let ticker: NodeJS.Timeout | undefined;
  const show = () => out.progress(`${status} [${Math.floor((now() - since) / 1000)}s]`);
  const progress = (text: string) => {
    status = text;
    show();
  };
  const stop = () => {
    if (ticker) clearInterval(ticker);
    ticker = undefined;
  };
  const print = (e: WalkEvent) => {
    switch (e.event) {
      case 'nothing-to-do':
        out.line(out.ok(`stack ${e.stack} is already at ${e.stage}; nothing to do`));
        break;
      case 'recovered':
        out.info(out.warn(`cleared ${e.pendingOperations} pending operation(s) left by an interrupted update`));
        break;
      case 'start':
        out.line(
          `Walking stack ${e.stack} from ${e.from ?? '(nothing deployed)'} to ${e.to}: ${e.steps} step(s), one up each.`,
        );
        break;
      case 'step-start':
        since = now();
        stop();
        ticker = setInterval(show, 1000);
        ticker.unref();
        progress(
          `${stepName(e.from, e.to)}: previewing (${e.side ? `may change only the ${e.side}` : 'first deployment: creates only'})`,
        );
        break;
      case 'preview':
        progress(
          `${stepName(e.from, e.to)}: preview changes ${e.schema.length} schema, ${e.app.length} app, ${e.neutral.length} neutral resource(s)`,
        );
        break;
      case 'gate':
        out.info(`  ${e.ok ? out.ok(`gate ${e.gate}`) : out.fail(`gate ${e.gate}`)}: ${e.detail}`);
        break;
      case 'schema-step':
        out.info(`  ${e.step === 'contracted' ? out.fail('database') : out.ok('database')}: ${e.detail}`);
        break;
      case 'rollout':
        out.info(`  ${e.ok ? out.ok(`${e.to} canary`) : out.fail(`${e.to} canary`)}: ${e.detail}`);
        break;
      case 'resource':
        if (e.phase === 'pre' && e.op !== 'same') progress(`${e.to}: ${e.op} ${e.urn.split('::').pop()} (${e.type})`);
        break;
      case 'step-done':
        stop();
        out.endProgress();
        out.line(`${out.ok(stepName(e.from, e.to))}  ${e.seconds.toFixed(1)}s  (${counts(e.resourceChanges)})`);
        break;
      case 'done':
        stop();
        out.line(out.ok(`stack ${e.stack} is at ${e.stage} (${e.steps} step(s), ${e.seconds.toFixed(1)}s)`));
        break;
    }
  };
  return Object.assign(print, { status: progress, stop });
}

function ask(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      rl.close();
      resolve(/^y(es)?$/i.test(answer.trim()));
    });
  });
}

function confirmOnTerminal(ctx: CommandContext): (step: WalkMove, changes: ClassifiedChanges) => Promise<boolean> {
  return async (step, changes) => {
    ctx.out.endProgress();
    const changed = [...changes.schema, ...changes.app, ...changes.neutral];
    for (const c of changed) ctx.out.info(`    ${c.op} ${c.urn}`);
    const side = step.side ? `changes the ${step.side}` : 'creates the stack';
    return ask(`Apply ${stepName(step.from, step.to)} (${side}, ${changed.length} resource(s))? [y/N] `);
  };
}

export const walkCommand: Command = {
  name: 'walk',
  usage: '',
  summary: 'move a stack to a stage one `pulumi up` per stage: preview, refuse mixed schema+app changes, gate, up',
  flags: {
    ...STACK_FLAGS,
    yes: { kind: 'boolean', description: 'apply each step without asking (required when stdin is not a terminal)' },
    recover: {
      kind: 'boolean',
      description:
        'first resolve operations an interrupted update left pending (import the Kubernetes objects that exist with pulumi refresh, drop the rest from the state) and a stale lock its killed pulumi left',
    },
    'database-url': {
      kind: 'string',
      value: 'URL',
      description:
        "PostgreSQL for the verify gate and the schema check before a walk back (default: the stack's tandem:databaseUrl)",
    },
    wait: {
      kind: 'integer',
      value: 'SECONDS',
      min: 0,
      default: 600,
      description:
        'how long to wait for a progressing canary, before cleanup and contract and after each app step (0: look once)',
    },
  },
  async run(ctx) {
    const args = stackArgs(ctx, 'walk');
    const yes = Boolean(ctx.args.flags.yes);
    if (!yes && !process.stdin.isTTY) {
      throw new RefusedError(
        'the walk asks before each up and stdin is not a terminal; pass --yes to apply without asking',
      );
    }
    const emitJson = (e: WalkEvent | object) => ctx.out.line(JSON.stringify(e));
    const printer = ctx.json ? undefined : walkEventPrinter(ctx.out);
    try {
      const driver = await openStack(ctx, args);
      const gates = createGates({
        driver,
        projectDir: args.projectDir,
        databaseUrl: ctx.args.flags['database-url'] as string | undefined,
        env: ctx.env,
        waitSeconds: ctx.args.flags.wait as number | undefined,
        onProgress: (text) => (printer ? printer.status(text) : ctx.out.progress(text)),
      });
      await walk(driver, gates, {
        to: args.to,
        yes,
        confirm: yes ? undefined : confirmOnTerminal(ctx),
        recover: Boolean(ctx.args.flags.recover),
        lockDir: args.projectDir,
        projectDir: args.projectDir,
        onEvent: printer ?? emitJson,
      });
      ctx.out.endProgress();
      // The events stream before it; the last line is the walk's outcome, in every command's shape.
      if (ctx.json) ctx.out.line(JSON.stringify(successOutcome({ stack: args.stack, to: args.to })));
      return ExitCode.Ok;
    } catch (err) {
      printer?.stop();
      ctx.out.endProgress();
      throw err; // main prints it, with --json as the last line: { ok: false, exit_code, error, warnings }
    }
  },
};
