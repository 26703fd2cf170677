import { deployedStage, HistoryEntry } from '../automation/deployed-stage';
import { Stage } from '../phases/deploy/stages';

const up = (result: string, stage?: string): HistoryEntry => ({
  kind: 'update',
  result,
  config: stage === undefined ? {} : { 'tandem:stage': { value: stage } },
});

describe("deployedStage: the stage of the stack's last successful update (history newest first)", () => {
  it.each<[string, HistoryEntry[], Record<string, unknown>, Stage | null]>([
    ['a stack never updated', [], {}, null],
    ['only failed updates', [up('failed', 'baseline')], { stage: 'baseline' }, null],
    ['one successful update', [up('succeeded', 'expand')], {}, 'expand'],
    [
      'a failed step after a good one: the good one, even if the failed one wrote new outputs',
      [up('failed', 'dual-write'), up('succeeded', 'expand')],
      { stage: 'dual-write' },
      'expand',
    ],
    [
      'refreshes and previews do not count',
      [{ kind: 'refresh', result: 'succeeded' }, up('succeeded', 'cleanup')],
      {},
      'cleanup',
    ],
    ['destroyed', [{ kind: 'destroy', result: 'succeeded' }, up('succeeded', 'contract')], {}, null],
    [
      'an update without tandem:stage in its config: the stage output',
      [up('succeeded')],
      { stage: 'baseline' },
      'baseline',
    ],
  ])('%s', (_name, history, outputs, stage) => {
    expect(deployedStage('dev', history, outputs)).toBe(stage);
  });

  it('refuses to guess when neither config nor outputs name a stage', () => {
    expect(() => deployedStage('dev', [up('succeeded', 'finished')], {})).toThrow(
      /stack dev was last updated without a valid tandem:stage \("finished"\)/,
    );
  });
});
