/**
 * Container image references as a release names them: `registry/path/name:tag`, `...@sha256:<64 hex>`
 * or both. Validated offline (the grammar of the distribution reference), so a typo fails the
 * update before anything is declared. A reference must pin a release: an untagged name or
 * `:latest` names whatever was pushed last, and a canary between two such releases changes nothing.
 */
import { ConfigError } from './config-error';

export interface ImageReference {
  /** The reference exactly as given. */
  readonly text: string;
  /** registry/path/name, without tag or digest. */
  readonly repository: string;
  readonly tag?: string;
  /** `sha256:<64 hex>` (or sha512:<128 hex>). */
  readonly digest?: string;
}

const DOMAIN =
  /^(?:localhost|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?=:))(?::[0-9]{1,5})?$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
/** Docker's limit on the name part. */
const MAX_NAME = 255;

/** Parse and validate an image reference; `key` names the config value for the error. */
export function parseImageReference(key: string, value: unknown): ImageReference {
  if (typeof value !== 'string' || value.trim() === '')
    throw new ConfigError(key, 'must be an image reference such as ghcr.io/acme/shop:1.14.2');
  const text = value;
  const bad = (why: string) => new ConfigError(key, `"${text}" is not an image reference: ${why}`);
  if (/\s/.test(text)) throw bad('it contains white space');
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad('the digest must be sha256: and 64 lowercase hex digits');
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag))
      throw bad(`the tag "${tag}" may hold letters, digits, _ . and - (at most 128, not starting with . or -)`);
  }
  if (rest.length === 0 || rest.length > MAX_NAME) throw bad(`the name must be 1 to ${MAX_NAME} characters`);
  const parts = rest.split('/');
  const first =
    parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost')
      ? parts.shift()!
      : undefined;
  if (first !== undefined && !DOMAIN.test(first)) throw bad(`"${first}" is not a registry host`);
  for (const p of parts) {
    if (!PATH_COMPONENT.test(p))
      throw bad(`"${p}" is not a valid path component (lowercase letters and digits, separated by . _ __ or -)`);
  }
  if (tag === undefined && digest === undefined)
    throw bad('it names no release; add a tag (:1.14.2) or a digest (@sha256:...)');
  if (tag === 'latest' && digest === undefined)
    throw bad('":latest" names whatever was pushed last, not a release; use a version tag or a digest');
  return { text, repository: rest, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}
