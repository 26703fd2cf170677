import { canarySteps } from '../rehearsal/stage-script';

describe('the rehearsal\'s canary steps come from the stage table', () => {
  it.each([
    ['baseline', [{ v1: 100 }]],
    ['expand', [{ v1: 100 }]],
    ['dual-write', [{ v1: 90, v2: 10 }, { v1: 50, v2: 50 }, { v1: 10, v2: 90 }, { v1: 0, v2: 100 }]],
    ['cleanup', [{ v2: 90, v3: 10 }, { v2: 50, v3: 50 }, { v2: 10, v3: 90 }, { v2: 0, v3: 100 }]],
    ['contract', [{ v3: 100 }]],
  ] as const)('%s', (stage, weights) => {
    expect(canarySteps(stage).map((s) => s.weights)).toEqual(weights);
  });
});
