/**
 * The app releases of one migration, by kind: the release that runs before it (`old`), the
 * dual-write release (`dual`) and the new-only release (`new`). The stage table's v1/v2/v3 are
 * these kinds' aliases (and the demo app's APP_VERSION); a user's images are any references.
 */
import { ConfigError } from './config-error';
import { parseImageReference } from './image-reference';
import { AppVersion } from './stages';

export const RELEASE_KINDS = ['old', 'dual', 'new'] as const;
export type ReleaseKind = (typeof RELEASE_KINDS)[number];

/** The talk's app versions are the kinds' aliases: v1 old, v2 dual-write, v3 new-only. */
export const KIND_OF_VERSION: Readonly<Record<AppVersion, ReleaseKind>> = { v1: 'old', v2: 'dual', v3: 'new' };
export const VERSION_OF_KIND: Readonly<Record<ReleaseKind, AppVersion>> = { old: 'v1', dual: 'v2', new: 'v3' };

/** A release kind (`old`, `dual`, `new`) or its alias (`v1`, `v2`, `v3`); undefined for anything else. */
export function parseReleaseKind(value: unknown): ReleaseKind | undefined {
  if (typeof value !== 'string') return undefined;
  if ((RELEASE_KINDS as readonly string[]).includes(value)) return value as ReleaseKind;
  return (KIND_OF_VERSION as Record<string, ReleaseKind>)[value];
}

/** One release: the image, and the environment that release needs (e.g. the demo's APP_VERSION). */
export interface Release {
  /** A validated image reference (tag, digest or both). */
  readonly image: string;
  readonly env: Readonly<Record<string, string>>;
}

export type MigrationReleases = Readonly<Record<ReleaseKind, Release>>;

/** Set by the Rollout itself; a release may not override them. */
export const RESERVED_ENV = ['PORT', 'DATABASE_URL'] as const;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A release as config gives it: an image reference, or `{ image, env }`. */
export function parseRelease(key: string, raw: unknown): Release {
  if (typeof raw === 'string') return { image: parseImageReference(key, raw).text, env: {} };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(key, 'must be an image reference, or { image, env } with env a map of strings');
  }
  const obj = raw as Record<string, unknown>;
  const extra = Object.keys(obj).filter((k) => k !== 'image' && k !== 'env');
  if (extra.length) throw new ConfigError(key, `has unknown field(s) ${extra.join(', ')}; a release has image and env`);
  const image = parseImageReference(`${key}.image`, obj.image).text;
  const env: Record<string, string> = {};
  if (obj.env !== undefined) {
    if (obj.env === null || typeof obj.env !== 'object' || Array.isArray(obj.env))
      throw new ConfigError(`${key}.env`, 'must be a map of names to strings');
    for (const [name, value] of Object.entries(obj.env as Record<string, unknown>)) {
      if (!ENV_NAME.test(name)) throw new ConfigError(`${key}.env`, `"${name}" is not an environment variable name`);
      if ((RESERVED_ENV as readonly string[]).includes(name))
        throw new ConfigError(`${key}.env`, `${name} is set by the Rollout; a release may not set it`);
      if (typeof value !== 'string')
        throw new ConfigError(`${key}.env.${name}`, 'must be a string (quote numbers and booleans)');
      env[name] = value;
    }
  }
  return { image, env };
}

/** Whether two releases are the same release (same image, same environment). */
export function sameRelease(a: Release, b: Release): boolean {
  const keys = (r: Release) => Object.keys(r.env).sort();
  return (
    a.image === b.image &&
    JSON.stringify(keys(a)) === JSON.stringify(keys(b)) &&
    keys(a).every((k) => a.env[k] === b.env[k])
  );
}

/** The talk's demo releases: `<repository>:v1|v2|v3`, each with APP_VERSION set to its version. */
export function demoReleases(repository: string): MigrationReleases {
  const release = (v: AppVersion): Release => ({ image: `${repository}:${v}`, env: { APP_VERSION: v } });
  return { old: release('v1'), dual: release('v2'), new: release('v3') };
}
