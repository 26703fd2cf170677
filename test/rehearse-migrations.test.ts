import * as fs from 'fs';
import * as path from 'path';
import { runCli } from './cli-run';

const MIGRATIONS = path.join(__dirname, '..', 'migrations');
const SPECS = fs
  .readdirSync(MIGRATIONS)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

// Every shipped example rehearses with no schema option: a spec that needs more than its own
// columns ships its table beside it (name.schema.sql). Small --rows and --step-ms keep this quick.
describe('every spec in migrations/ rehearses with no options and passes', () => {
  it('finds the shipped specs', () => {
    expect(SPECS.length).toBeGreaterThanOrEqual(15);
  });

  it.each(SPECS)(
    '%s',
    async (file) => {
      const { code, stdout, stderr } = await runCli([
        'rehearse',
        path.join(MIGRATIONS, file),
        '--rows',
        '150',
        '--step-ms',
        '100',
        '--json',
      ]);
      const report = JSON.parse(stdout.trim().split('\n').pop() || '{}');
      expect({
        code,
        stderr: code === 0 ? '' : stderr.split('\n').slice(-3).join('\n'),
        failed: report.failure_samples,
        lost: report.mismatch_samples,
      }).toEqual({ code: 0, stderr: '', failed: [], lost: [] });
      expect(report).toMatchObject({ ok: true, failed_writes: 0, lost_or_altered_writes: 0 });
    },
    120000,
  );
});
