import { plan, PlanResult } from '../../automation/plan';
import { STAGE_TABLE } from '../../phases/deploy/stages';
import { Command } from '../command';
import { ExitCode } from '../exit-code';
import { Output } from '../output';
import { failureOutcome, OutcomeError, successOutcome } from '../outcome';
import { openStack, STACK_FLAGS, stackArgs } from './walk';

/** The plan as text: the path, each step's side, gates and why, the first step's preview. */
export function printPlan(out: Output, result: PlanResult): void {
  if (result.migration) {
    const m = result.migration;
    out.line(
      `Migration ${m.number} of ${m.count}: ${m.current}${m.next ? `; next: ${m.next} (after contract: tandem walk --to next)` : '; the last in tandem:migrations'}`,
    );
  }
  if (result.steps.length === 0) {
    out.line(out.ok(`stack ${result.stack} is already at ${result.to}; nothing to do`));
  } else {
    out.line(
      `Stack ${result.stack}: ${result.from ?? '(nothing deployed)'} -> ${result.to}, ${result.steps.length} step(s), one up each (nothing is applied):`,
    );
  }
  result.steps.forEach((s, i) => {
    const side = s.side ? `changes only the ${s.side}` : 'first deployment: creates only';
    const gates = s.gates.length ? `gates: ${s.gates.join(', ')}` : 'no gates';
    const after = s.side === 'app' ? `; after the up, waits for the ${STAGE_TABLE[s.to].app} canary` : '';
    out.line(`  ${i + 1}. ${s.from ?? '(nothing deployed)'} -> ${s.to}  ${side}; ${gates}${after}`);
    out.line(out.dim(`     ${s.why}`));
    if (s.preview) {
      out.line(
        `     preview: ${s.preview.schema.length} schema, ${s.preview.app.length} app, ${s.preview.neutral.length} neutral change(s)`,
      );
      for (const c of [...s.preview.schema, ...s.preview.app, ...s.preview.neutral]) out.line(out.dim(`       ${c}`));
    }
    if (s.refused) out.line(`     ${out.fail('would be refused')}: ${s.refused}`);
  });
  if (result.followUp) out.line(result.followUp);
  if (result.pendingOperations.length > 0) {
    out.line(
      out.fail(
        `${result.pendingOperations.length} operation(s) pending from an interrupted update; recover with \`${result.recoveryCommand}\` or \`tandem walk --recover\``,
      ),
    );
  }
}

/** Why the walk this plan shows would stop: pending operations first (the walk checks them first), then a refused preview. */
function planRefusal(result: PlanResult): OutcomeError | undefined {
  if (result.pendingOperations.length > 0) {
    return {
      kind: 'pending_operations',
      message: `${result.pendingOperations.length} operation(s) pending from an interrupted update; recover with \`${result.recoveryCommand}\` or \`tandem walk --recover\``,
      stack: result.stack,
    };
  }
  const step = result.steps.find((s) => s.refused);
  return step ? { kind: 'preview_refused', message: step.refused!, from: step.from, to: step.to } : undefined;
}

export const planCommand: Command = {
  name: 'plan',
  usage: '',
  summary: "show the walk to a stage: each step's side and gates, and the first step's preview; applies nothing",
  flags: {
    ...STACK_FLAGS,
    'skip-preview': { kind: 'boolean', description: 'do not preview the first step (only the path, sides and gates)' },
  },
  async run(ctx) {
    const args = stackArgs(ctx, 'plan');
    const driver = await openStack(ctx, args);
    const result = await plan(driver, {
      to: args.to,
      preview: !ctx.args.flags['skip-preview'],
      lockDir: args.projectDir,
      projectDir: args.projectDir,
    });
    const refusal = planRefusal(result);
    const refused = refusal !== undefined;
    if (ctx.json) {
      ctx.out.line(JSON.stringify(refusal ? failureOutcome(refusal, ExitCode.Failed, result) : successOutcome(result)));
      return refused ? ExitCode.Failed : ExitCode.Ok;
    }
    printPlan(ctx.out, result);
    return refused ? ExitCode.Failed : ExitCode.Ok;
  },
};
