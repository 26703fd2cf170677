/**
 * A Command runs its `create` again when any input changes (command:local:Command v1.2.1: every
 * input but `triggers` is an update in place, and an update runs `update`, else `create`). So a
 * Tandem upgrade that rewords a Command's `create`, `delete`, `logging` or `environment` would
 * re-run a schema step on every stack it meets. The inputs Tandem 0.1.0 declares for one spec are
 * recorded in test/fixtures/command-inputs/0.1.0.json; this version must declare exactly those,
 * which the command provider's Diff (the e2e stand-in's diffInputs, v1.2.1's semantics) then
 * finds unchanged. If this fails, the change re-runs steps on existing stacks: keep the old
 * strings (or make the new ones apply only to new migrations).
 */
import * as fs from 'fs';
import * as path from 'path';
import { diffInputs } from '../e2e/command-provider/semantics';
import { runStack } from './stack-run';

const FIXTURE = path.join(__dirname, 'fixtures', 'command-inputs', '0.1.0.json');
const SPEC = 'test/fixtures/command-inputs/split-full-name.yaml';

async function declaredInputs(): Promise<Record<string, Record<string, unknown>>> {
  const { recorder } = await runStack('contract', SPEC);
  return Object.fromEntries(recorder.ofType('command:local:Command').map((c) => [c.name, c.inputs]));
}

describe('Command inputs stay as an older Tandem declared them', () => {
  it('the contract stage declares the same Commands with the same inputs as 0.1.0, so the next preview plans no schema change', async () => {
    const now = await declaredInputs();
    if (process.env.TANDEM_RECORD_COMMAND_INPUTS === '1')
      fs.writeFileSync(FIXTURE, JSON.stringify(now, null, 2) + '\n');
    const recorded = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as Record<string, Record<string, unknown>>;
    expect(Object.keys(now)).toEqual(Object.keys(recorded));
    for (const name of Object.keys(recorded)) {
      expect({ name, inputs: now[name] }).toEqual({ name, inputs: recorded[name] });
      expect({ name, ...diffInputs(recorded[name], now[name]) }).toEqual({
        name,
        changes: false,
        replaces: [],
        deleteBeforeReplace: false,
      });
    }
  });
});
