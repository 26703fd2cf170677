/**
 * `tandem plan` names the second migration a spec needs to land its columns on their old names
 * (change_type, set_not_null with up, drop_not_null, a constraint's data fix), in one line; a spec
 * that lands on the old names (rename_column, set_not_null without up) gets none.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { plan } from '../automation/plan';
import { printPlan } from '../cli/commands/plan';
import { landingFollowUp } from '../phases/sql/landing';
import { parseSpec } from '../phases/sql/spec';
import { FakeStackDriver } from './fake-stack-driver';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-followup-'));
const TYPE = `name: price-bigint
table: items
operations:
  - change_type: { column: price, into: price_cents, type: bigint, up: "price * 100", down: "(price_cents / 100)::int" }
`;
fs.writeFileSync(path.join(dir, 'type.yaml'), TYPE);

describe('plan: the follow-up that lands on the old name', () => {
  it('shows the rename_column migration and its releases for a change_type', async () => {
    const d = new FakeStackDriver({ stage: 'baseline', config: { 'tandem:spec': 'type.yaml' } });
    const result = await plan(d, { to: 'contract', preview: false, projectDir: dir });
    expect(result.followUp).toBe(
      'follow-up: price-bigint leaves price as price_cents; to land on the old name, a second migration (rename_column { from: price_cents, to: price }) with two more releases: one reading the new name and writing both, then one using the old only',
    );
    const lines: string[] = [];
    printPlan(
      {
        line: (s: string) => lines.push(s),
        ok: (s: string) => s,
        fail: (s: string) => s,
        dim: (s: string) => s,
      } as any,
      result,
    );
    expect(lines.filter((l) => l.startsWith('follow-up:'))).toHaveLength(1);
  });

  it.each([
    ['rename_column', `rename_column: { from: a, to: b }`, undefined],
    ['set_not_null in place', `set_not_null: { column: a }`, undefined],
    ['set_not_null with up', `set_not_null: { column: a, up: "0" }`, 'a as a_new'],
    ['drop_not_null', `drop_not_null: { column: a, down: "0", into: a2 }`, 'a as a2'],
    ['add_check with a fix', `add_check: { name: c, column: a, check: "a > 0", up: "abs(a)" }`, 'a as a_new'],
  ])('%s', (_name, op, leaves) => {
    const f = landingFollowUp(parseSpec(`name: x\ntable: t\noperations:\n  - ${op}\n`));
    if (leaves === undefined) expect(f).toBeUndefined();
    else expect(f).toContain(`leaves ${leaves};`);
  });
});
