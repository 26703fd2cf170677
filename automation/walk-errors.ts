/** The walker's typed errors: each exits 1 (refused or failed) and carries the names involved. */
import { RefusedError, TandemError } from '../phases/errors';
import { Stage } from '../phases/deploy/stages';
import { GateName, UnsafeMoveBackError } from '../phases/deploy/walk-path';
import { PendingOperation } from './stack-driver';

/** Another walker (or another `pulumi up`) holds the stack. */
export class StackBusyError extends RefusedError {
  readonly kind = 'stack_busy';
  constructor(
    readonly stack: string,
    readonly holder?: string,
  ) {
    super(
      `stack ${stack} is being changed by another process${holder ? ` (${holder})` : ''}; wait for it to finish and run the walk again`,
    );
    this.name = 'StackBusyError';
  }
}

/** The stack's state holds operations an interrupted update never finished. */
export class PendingOperationsError extends RefusedError {
  readonly kind = 'pending_operations';
  constructor(
    readonly stack: string,
    readonly pending: readonly PendingOperation[],
    readonly command: string,
  ) {
    const what = pending
      .slice(0, 3)
      .map((p) => `${p.urn} (interrupted while ${p.op})`)
      .join(', ');
    super(
      `stack ${stack} has ${pending.length} operation(s) left pending by an interrupted update: ${what}${pending.length > 3 ? ', ...' : ''}. ` +
        `Check those resources, then recover with \`${command}\` or run the walk again with --recover`,
    );
    this.name = 'PendingOperationsError';
  }
}

/** A gate before a step did not pass. */
export class GateFailedError extends RefusedError {
  readonly kind = 'gate_failed';
  constructor(
    readonly gate: GateName,
    readonly from: string | null,
    readonly to: string,
    readonly detail: string,
    readonly next: string,
  ) {
    super(`gate ${gate} before ${from ?? '(nothing deployed)'} -> ${to} did not pass: ${detail}. ${next}`);
    this.name = 'GateFailedError';
  }
}

/** Before a stack's first up: the cluster lacks what the stack needs and does not create. */
export class ClusterNotReadyError extends RefusedError {
  readonly kind = 'cluster_not_ready';
  constructor(
    readonly stack: string,
    readonly detail: string,
    readonly next: string,
  ) {
    super(`stack ${stack} has never been deployed, and its first up needs the cluster ready: ${detail}. ${next}`);
    this.name = 'ClusterNotReadyError';
  }
}

/**
 * An app step's up went through, but the canary it started did not end fully promoted and Healthy
 * (Degraded, aborted, paused for a human, or still going when the wait ran out). The stack is at
 * `to`; the walk stops there.
 */
export class RolloutNotSettledError extends RefusedError {
  readonly kind = 'rollout_not_settled';
  constructor(
    readonly from: string | null,
    readonly to: string,
    readonly detail: string,
    readonly next: string,
  ) {
    super(
      `${from ?? '(nothing deployed)'} -> ${to} was applied, but its canary did not end fully promoted and Healthy: ${detail}. ${next}`,
    );
    this.name = 'RolloutNotSettledError';
  }
}

/**
 * A move back the stage table allows, refused because the database is already contracted: the
 * stack's last update is before contract (a contract up interrupted after its DDL committed, or a
 * contract run by hand), but the old columns are gone, so no older app version can run.
 */
export class SchemaContractedError extends UnsafeMoveBackError {
  readonly kind = 'schema_contracted';
  constructor(
    readonly stack: string,
    from: Stage,
    to: Stage,
    readonly detail: string,
  ) {
    super(
      from,
      to,
      `the database says ${detail}, though the stack's last update is at ${from}; the old columns are gone, so no older app version can run. ` +
        `Bring the stack in line by walking forward with \`tandem walk --stack ${stack} --to contract\``,
    );
    this.name = 'SchemaContractedError';
  }
}

/** No `pulumi` CLI on PATH: the Automation API drives the CLI, so nothing can run. */
export class PulumiMissingError extends RefusedError {
  readonly kind = 'pulumi_missing';
  constructor() {
    super(
      'the walker drives the pulumi CLI, and no `pulumi` is on PATH; install it (https://www.pulumi.com/docs/install/) and run the command again',
    );
    this.name = 'PulumiMissingError';
  }
}

/**
 * The CLI's error diagnostics: from its "Diagnostics:" section when there is one, each `error:`
 * line with the continuation lines under it (a failed Command's output: the refusal's reason is
 * there, not on the `error:` line); otherwise every line containing `error: `.
 */
export function pulumiErrorLines(output: string): string[] {
  const lines = output.split('\n');
  const start = lines.findIndex((l) => /^\s*Diagnostics:\s*$/.test(l));
  if (start < 0)
    return [
      ...new Set(
        lines.flatMap(
          (l) =>
            /(?:^|\s)error: (.*)$/
              .exec(l)
              ?.slice(1)
              .map((m) => `error: ${m.trim()}`) ?? [],
        ),
      ),
    ];
  const found: string[] = [];
  let current: string[] | undefined;
  const flush = () => {
    if (current) found.push(current.join('\n'));
    current = undefined;
  };
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break; // the next section (Outputs:, Resources:, the wrapper's own lines)
    const diag = /^\s+(error|warning|info): (.*)$/.exec(line);
    if (diag) {
      flush();
      if (diag[1] === 'error') current = [`error: ${diag[2].trim()}`];
    } else if (!line.trim() || /^\s{0,3}\S/.test(line)) {
      flush(); // a blank line or the next resource's header ends the diagnostic
    } else if (current && current.length < 21) {
      current.push(`  ${line.trim()}`);
    }
  }
  flush();
  return [...new Set(found)];
}

/**
 * A pulumi operation failed: the message keeps the CLI's own error diagnostics (with a failed
 * Command's output under its error line), the full output stays on `cause` for --debug.
 */
export class PulumiCommandError extends TandemError {
  readonly kind = 'pulumi_failed';
  readonly exitCode = 1;
  constructor(
    readonly operation: string,
    readonly stack: string,
    readonly cause: Error,
  ) {
    // Pulumi's diagnostics are lowercase `error: ...`; the wrapper's own `Error: Command failed` is noise.
    const lines = pulumiErrorLines(cause.message);
    super(
      `pulumi ${operation} on stack ${stack} failed: ${lines.length ? lines.slice(0, 5).join(' ') : cause.message.split('\n')[0]}`,
    );
    this.name = 'PulumiCommandError';
  }
}
