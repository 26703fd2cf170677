/**
 * A stack's migrations: an ordered list in the stack config (`tandem:migrations`), each entry a spec
 * and the app releases that carry it (old, dual-write, new-only). The stack is at one stage of the
 * CURRENT migration (`tandem:migration`, by name); every migration before it is finished.
 *
 * Why an explicit list in config, not a directory applied in file-name order: each migration needs
 * its releases, and those are per stack (the app's pipeline builds an image and sets its digest on
 * the stack it deploys to), which a directory of specs cannot carry; and a spec file merged into a
 * directory must not become part of a stack's history until someone puts it in that stack's list.
 * Why the releases live in the stack config, not the spec: the spec is the database team's
 * reviewed refactoring, the same in every environment and often written before the images exist;
 * image references are what pipelines set (`pulumi config set --path`), per environment.
 *
 * Migration N's new-only release is N+1's old one: an entry after the first may leave `old` out
 * (it is derived), and one that names it must name the same release.
 */
import { ConfigError } from './config-error';
import { RELEASE_KINDS, MigrationReleases, parseRelease, Release, sameRelease } from './releases';

export interface MigrationEntry {
  /** The spec file, as given (relative to the project). */
  readonly specPath: string;
  readonly releases: MigrationReleases;
}

const KEY = 'tandem:migrations';

function parseEntry(raw: unknown, i: number, previous: MigrationEntry | undefined): MigrationEntry {
  const at = `${KEY}[${i}]`;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new ConfigError(at, 'must be { spec, releases: { old, dual, new } }');
  const obj = raw as Record<string, unknown>;
  const extra = Object.keys(obj).filter((k) => k !== 'spec' && k !== 'releases');
  if (extra.length)
    throw new ConfigError(at, `has unknown field(s) ${extra.join(', ')}; an entry has spec and releases`);
  if (typeof obj.spec !== 'string' || obj.spec === '')
    throw new ConfigError(`${at}.spec`, 'must be the path of a spec file');
  const rel = obj.releases;
  if (rel === null || typeof rel !== 'object' || Array.isArray(rel))
    throw new ConfigError(`${at}.releases`, 'must be { old, dual, new }, each an image reference');
  const relObj = rel as Record<string, unknown>;
  const unknownRoles = Object.keys(relObj).filter((k) => !(RELEASE_KINDS as readonly string[]).includes(k));
  if (unknownRoles.length)
    throw new ConfigError(
      `${at}.releases`,
      `has unknown role(s) ${unknownRoles.join(', ')}; the roles are old, dual and new`,
    );
  const get = (role: string): Release | undefined =>
    relObj[role] === undefined ? undefined : parseRelease(`${at}.releases.${role}`, relObj[role]);
  let old = get('old');
  if (previous) {
    if (old && !sameRelease(old, previous.releases.new)) {
      throw new ConfigError(
        `${at}.releases.old`,
        `is ${old.image}, but the migration before it ends on ${previous.releases.new.image}; a migration starts from the release the one before it finished with (leave old out to derive it)`,
      );
    }
    old = previous.releases.new;
  } else if (!old) {
    throw new ConfigError(
      `${at}.releases.old`,
      'is not set; the first migration must name the release that runs before it',
    );
  }
  const dual = get('dual');
  const neu = get('new');
  if (!dual) throw new ConfigError(`${at}.releases.dual`, 'is not set');
  if (!neu) throw new ConfigError(`${at}.releases.new`, 'is not set');
  if (sameRelease(dual, old))
    throw new ConfigError(
      `${at}.releases.dual`,
      `is the same release as old (${old.image}); the dual-write release must be a new release`,
    );
  if (sameRelease(neu, dual))
    throw new ConfigError(
      `${at}.releases.new`,
      `is the same release as dual (${dual.image}); the new-only release must be a new release`,
    );
  return { specPath: obj.spec, releases: { old, dual, new: neu } };
}

/** Parse `tandem:migrations` (as `pulumi.Config.getObject` returns it). */
export function parseMigrationList(raw: unknown): MigrationEntry[] {
  if (!Array.isArray(raw) || raw.length === 0)
    throw new ConfigError(KEY, 'must be a non-empty list of { spec, releases }');
  const out: MigrationEntry[] = [];
  raw.forEach((entry, i) => out.push(parseEntry(entry, i, out[i - 1])));
  const seen = new Map<string, number>();
  out.forEach((e, i) => {
    if (seen.has(e.specPath))
      throw new ConfigError(
        `${KEY}[${i}].spec`,
        `${e.specPath} is already migration ${seen.get(e.specPath)}; a spec runs once`,
      );
    seen.set(e.specPath, i);
  });
  return out;
}

/** Migration names (the specs' `name`) must be unique: the database records migrations by name. */
export function checkUniqueNames(names: readonly string[]): void {
  const seen = new Map<string, number>();
  names.forEach((n, i) => {
    if (seen.has(n))
      throw new ConfigError(
        `${KEY}[${i}].spec`,
        `names migration "${n}", already migration ${seen.get(n)}; names are unique per database`,
      );
    seen.set(n, i);
  });
}

/**
 * The index of the current migration: `tandem:migration` by name, or the first when unset. The one
 * resolver: the program, TandemMigration and the walker all ask it (`key` and `list` name the
 * setting and the history as the caller's user knows them).
 */
export function currentMigrationIndex(
  names: readonly string[],
  configured: string | undefined,
  key = 'tandem:migration',
  list = KEY,
): number {
  if (configured === undefined || configured === '') return 0;
  const i = names.indexOf(configured);
  if (i < 0) throw new ConfigError(key, `"${configured}" is not in ${list} (${names.join(', ')})`);
  return i;
}
