/** The CLI's exit-code contract. */
export enum ExitCode {
  Ok = 0,
  /** A refused or failed operation or check. */
  Failed = 1,
  /** Invalid input or usage. */
  BadInput = 2,
}
