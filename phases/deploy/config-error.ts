/** A stack configuration value is missing or invalid; `key` names it (e.g. `tandem:stage`). */
export class ConfigError extends Error {
  readonly exitCode = 2;
  constructor(readonly key: string, message: string) {
    super(`${key}: ${message}`);
    this.name = 'ConfigError';
  }
}
