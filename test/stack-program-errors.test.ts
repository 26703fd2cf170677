/**
 * Bad configuration or a bad spec stops the program before it declares any resource, with the
 * typed error that names the offending key or field.
 */
import { ConfigError } from '../phases/deploy/config-error';
import { SpecError } from '../phases/errors';
import { SECRET_KEYS } from '../phases/deploy/stack-config';
import { recordResources, settled } from './mocks';
import { configureStack, runProgram, SPLIT_FULL_NAME_SPEC, writeSpec } from './stack-run';

async function refusal(stage: string, spec: string, overrides: Record<string, unknown> = {}) {
  const recorder = await recordResources();
  configureStack(stage, spec, overrides);
  let error: unknown;
  try {
    await runProgram();
  } catch (err) {
    error = err;
  }
  await settled();
  return { error, declared: recorder.all.map((r) => r.name) };
}

describe('the program refuses before declaring anything', () => {
  const spec = writeSpec();

  it.each([
    ['expand', { stage: undefined }, 'tandem:stage'],
    ['migrate', {}, 'tandem:stage'],
    ['expand', { appImage: 'ghcr.io/a/app:v9' }, 'tandem:appImage'],
    ['expand', { canarySteps: ['setWeight 10'] }, 'tandem:canarySteps'],
    ['expand', { replicas: 0 }, 'tandem:replicas'],
  ])('stage %s with %j: ConfigError naming %s', async (stage, override, key) => {
    const { error, declared } = await refusal(stage, spec, override);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe(key);
    expect(declared).toEqual([]);
  });

  it.each(SECRET_KEYS)(
    "without tandem:%s: Pulumi's missing-config error naming the key and `--secret`, nothing declared",
    async (key) => {
      const { error, declared } = await refusal('dual-write', spec, { [key]: undefined });
      expect((error as Error).message).toContain(`Missing required configuration variable 'tandem:${key}'`);
      expect((error as Error).message).toContain(`pulumi config set --secret tandem:${key}`);
      expect(declared).toEqual([]);
    },
  );

  it('a spec that does not validate: SpecError naming the field', async () => {
    const bad = writeSpec(SPLIT_FULL_NAME_SPEC.replace('column: full_name', 'colum: full_name'));
    const { error, declared } = await refusal('expand', bad);
    expect(error).toBeInstanceOf(SpecError);
    expect((error as SpecError).field).toContain('operations[0].split_column');
    expect(declared).toEqual([]);
  });

  it('a missing spec file: SpecError saying so', async () => {
    const { error, declared } = await refusal('expand', '/nonexistent/spec.yaml');
    expect(error).toBeInstanceOf(SpecError);
    expect((error as Error).message).toBe('spec file /nonexistent/spec.yaml does not exist');
    expect(declared).toEqual([]);
  });

  it('a good configuration does declare resources (so the refusals above are not vacuous)', async () => {
    const { error, declared } = await refusal('expand', spec);
    expect(error).toBeUndefined();
    expect(declared.length).toBeGreaterThan(10);
  });
});
