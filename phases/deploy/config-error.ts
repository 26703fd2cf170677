/** A stack configuration value is missing or invalid; `key` names it (e.g. `tandem:stage`). */
import { TandemError } from '../errors';
export class ConfigError extends TandemError {
  readonly kind = 'config';
  readonly exitCode = 2;
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`${key}: ${message}`);
    this.name = 'ConfigError';
  }
}
