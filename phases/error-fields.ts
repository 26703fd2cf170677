/**
 * Reading what a thrown value carries without trusting its shape: node-postgres errors carry
 * `code` (SQLSTATE) and `where`, Node's system errors `code` (`EEXIST`), the Kubernetes client
 * `code` (an HTTP status). A thrown value may be anything, so every read is checked.
 */

/** The property `name` of a thrown object, or undefined when it is not an object or lacks it. */
export function errorField(err: unknown, name: string): unknown {
  return typeof err === 'object' && err !== null ? (err as Record<string, unknown>)[name] : undefined;
}

/** Its `code` (a SQLSTATE, a Node system error code, an HTTP status), when it has one. */
export function errorCode(err: unknown): string | number | undefined {
  const code = errorField(err, 'code');
  return typeof code === 'string' || typeof code === 'number' ? code : undefined;
}

/** Its message, or the value as text. */
export function errorMessage(err: unknown): string {
  const message = errorField(err, 'message');
  return typeof message === 'string' ? message : String(err);
}
