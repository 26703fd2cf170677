/**
 * One shared Pulumi mock harness: `recordResources()` installs pulumi.runtime.setMocks (the real SDK
 * runtime, only the engine mocked) and records every registered resource, component or custom, with
 * its type, name, inputs, parent, dependencies and which inputs were secret. `promiseOf` turns an
 * Output into a promise, so tests await values instead of asserting inside `apply`.
 */
import * as pulumi from '@pulumi/pulumi';

export interface RecordedResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  /** Component resources are custom: false. */
  readonly custom: boolean;
  /** Inputs as the provider would receive them, secrets unwrapped. */
  readonly inputs: Record<string, any>;
  /** Dotted paths of the inputs that were marked secret (e.g. `environment.DATABASE_URL`). */
  readonly secretInputs: readonly string[];
  readonly parentUrn?: string;
  /** URNs of the resources this one depends on (dependsOn and input dependencies). */
  readonly dependencies: readonly string[];
  readonly additionalSecretOutputs: readonly string[];
  /** Inputs whose changes the engine ignores (the ignoreChanges resource option). */
  readonly ignoreChanges: readonly string[];
  /** The provider reference (`<provider urn>::<id>`), when one was given explicitly. */
  readonly provider?: string;
  /** The retainOnDelete resource option: the engine removes the resource from the state without running its delete. */
  readonly retainOnDelete: boolean;
  /** The names of the aliases option (alias specs; the resource's former names). */
  readonly aliasNames: readonly string[];
}

const SECRET_SIG = '4dabf18193072939515e22adb298388d';
const SECRET_VALUE = '1b47061264138c4ac30d75fd1eb44270';

function secretPaths(value: unknown, at: string, out: string[]): void {
  if (value === null || typeof value !== 'object') return;
  const obj = value as Record<string, unknown>;
  if (obj[SECRET_SIG] === SECRET_VALUE) {
    out.push(at);
    return;
  }
  for (const [k, v] of Object.entries(obj)) secretPaths(v, at ? `${at}.${k}` : k, out);
}

export class ResourceRecorder {
  private readonly byUrn = new Map<string, RecordedResource>();

  add(r: RecordedResource): void {
    this.byUrn.set(r.urn, r);
  }

  get all(): RecordedResource[] {
    return [...this.byUrn.values()];
  }

  /** The resource with this logical name; throws when there is none or several. */
  named(name: string): RecordedResource {
    const found = this.all.filter((r) => r.name === name);
    if (found.length !== 1)
      throw new Error(
        `expected one resource named ${name}, found ${found.length}: ${this.all.map((r) => r.name).join(', ')}`,
      );
    return found[0];
  }

  ofType(type: string): RecordedResource[] {
    return this.all.filter((r) => r.type === type);
  }

  parentOf(r: RecordedResource): RecordedResource | undefined {
    return r.parentUrn ? this.byUrn.get(r.parentUrn) : undefined;
  }

  dependenciesOf(r: RecordedResource): RecordedResource[] {
    return r.dependencies.map((u) => this.byUrn.get(u)).filter((d): d is RecordedResource => d !== undefined);
  }
}

/**
 * Install the mocks and return the recorder. `state` lets a test add provider outputs; by default
 * a resource's state is its inputs and its id `<name>-id`.
 */
export async function recordResources(
  state: (args: pulumi.runtime.MockResourceArgs) => Record<string, any> = () => ({}),
): Promise<ResourceRecorder> {
  const recorder = new ResourceRecorder();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        // A StackReference reads a stack's outputs: none, unless `state` gives some (the previous update's).
        const base = args.type === 'pulumi:pulumi:StackReference' ? { outputs: {}, secretOutputNames: [] } : {};
        return { id: args.custom ? `${args.name}-id` : undefined, state: { ...args.inputs, ...base, ...state(args) } };
      },
      call(args) {
        throw new Error(`unexpected invoke ${args.token} in a Tandem program`);
      },
    },
    'tandem',
    'test',
    false,
    'organization',
  );
  // The mock monitor sees the full request (parent, dependencies, secrets); newResource does not.
  const monitor = pulumi.runtime.getMonitor() as any;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: (err: any, res: any) => void) => {
    const type: string = req.getType();
    const name: string = req.getName();
    const raw = req.getObject()?.toJavaScript() ?? {};
    const secrets: string[] = [];
    secretPaths(raw, '', secrets);
    const meta = {
      type,
      name,
      custom: req.getCustom(),
      secretInputs: secrets,
      parentUrn: req.getParent() || undefined,
      dependencies: req.getDependenciesList(),
      additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
      ignoreChanges: req.getIgnorechangesList(),
      provider: req.getProvider() || undefined,
      retainOnDelete: req.hasRetainondelete?.() ? Boolean(req.getRetainondelete()) : false,
      aliasNames: (req.getAliasesList?.() ?? [])
        .map((a: any) => a.getSpec?.()?.getName?.() ?? a.getUrn?.())
        .filter((n: unknown) => typeof n === 'string' && n !== ''),
    };
    return register(req, (err: any, res: any) => {
      if (!err && res) {
        const urn: string = res.getUrn();
        const inputs = unwrapSecrets(raw) as Record<string, any>;
        recorder.add({ urn, inputs, ...meta });
      }
      callback(err, res);
    });
  };
  return recorder;
}

function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  if (obj[SECRET_SIG] === SECRET_VALUE) return unwrapSecrets(obj.value);
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, unwrapSecrets(v)]));
}

/** Resolve an Output's value (never assert inside apply: await this instead). */
export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** Wait until every resource registration the program started has reached the mock monitor. */
export async function settled(): Promise<void> {
  await (pulumi.runtime as any).waitForRPCs();
}
