import { defaultCanarySteps } from '../phases/deploy/canary-steps';
import { STAGE_TABLE, STAGES } from '../phases/deploy/stages';
import { canarySteps, rehearsalScript, ScriptStage } from '../rehearsal/stage-script';

describe("the rehearsal's canary steps come from the stage table", () => {
  it.each([
    ['baseline', [{ v1: 100 }]],
    ['expand', [{ v1: 100 }]],
    [
      'dual-write',
      [
        { v1: 90, v2: 10 },
        { v1: 50, v2: 50 },
        { v1: 10, v2: 90 },
        { v1: 0, v2: 100 },
      ],
    ],
    [
      'cleanup',
      [
        { v2: 90, v3: 10 },
        { v2: 50, v3: 50 },
        { v2: 10, v3: 90 },
        { v2: 0, v3: 100 },
      ],
    ],
    ['contract', [{ v3: 100 }]],
  ] as const)('%s', (stage, weights) => {
    expect(canarySteps(stage).map((s) => s.weights)).toEqual(weights);
  });
});

describe("the rehearsal's script is derived from the stage table", () => {
  const rolloutWeights = defaultCanarySteps().flatMap((s) => ('setWeight' in s ? [s.setWeight] : []));

  it("one step per stage, in the table's order, each with the table's app version and side", () => {
    const script = rehearsalScript();
    expect(script.map((s) => s.stage)).toEqual([...STAGES]);
    script.forEach((step, i) => {
      const def = STAGE_TABLE[STAGES[i]];
      expect(step.app).toBe(def.app);
      const kind =
        def.changes === undefined
          ? 'baseline'
          : def.changes === 'app'
            ? 'canary'
            : def.schema === 'expanded'
              ? 'expand'
              : 'contract';
      expect(step.kind).toBe(kind);
    });
  });

  it("each canary step hands traffic from the previous stage's version to the stage's own, at the Rollout's weights", () => {
    const script = rehearsalScript();
    const canaries = script.filter((s) => s.kind === 'canary');
    expect(canaries.length).toBe(STAGES.filter((s) => STAGE_TABLE[s].changes === 'app').length);
    for (const step of canaries) {
      if (step.kind !== 'canary') continue;
      const previous = STAGE_TABLE[STAGES[STAGES.indexOf(step.stage as (typeof STAGES)[number]) - 1]];
      expect(step.from).toBe(previous.app);
      expect(step.steps).toEqual(
        rolloutWeights.map((w) => ({ share: w, weights: { [previous.app]: 100 - w, [step.app]: w } })),
      );
    }
  });

  it('a stage added to the table is a step of the rehearsal, with nothing else changed', () => {
    const table: ScriptStage[] = STAGES.map((s) => STAGE_TABLE[s]);
    // A stage that hands traffic from v3 back to v2 before contract.
    const withCanaryBack: ScriptStage[] = [
      ...table.slice(0, 4),
      { stage: 'back-to-v2', schema: 'expanded', app: 'v2', changes: 'app' },
      table[4],
    ];
    const script = rehearsalScript(withCanaryBack);
    expect(script.map((s) => `${s.kind} ${s.stage}`)).toEqual([
      'baseline baseline',
      'expand expand',
      'canary dual-write',
      'canary cleanup',
      'canary back-to-v2',
      'contract contract',
    ]);
    const added = script[4];
    expect(added.kind === 'canary' && added.steps.map((s) => s.weights)).toEqual(
      rolloutWeights.map((w) => ({ v3: 100 - w, v2: w })),
    );
    expect(script[5]).toEqual({ kind: 'contract', stage: 'contract', app: 'v3' });
  });

  it('refuses a table whose first stage changes the app, or a schema state it has no step for', () => {
    expect(() => rehearsalScript([{ stage: 'x', schema: 'original', app: 'v2', changes: 'app' }])).toThrow(
      /first stage x changes the app/,
    );
    expect(() =>
      rehearsalScript([
        { stage: 'a', schema: 'original', app: 'v1' },
        { stage: 'b', schema: 'original', app: 'v1', changes: 'schema' },
      ]),
    ).toThrow(/no step into the original schema of b/);
  });
});
