/** The CLI's exit-code contract. */
export enum ExitCode {
  Ok = 0,
  /** A refused or failed operation or check. */
  Failed = 1,
  /** Invalid input or usage. */
  BadInput = 2,
  /** Stopped by SIGINT (Ctrl-C), as shells report it: 128 + 2. */
  Interrupted = 130,
  /** Stopped by SIGTERM: 128 + 15. */
  Terminated = 143,
}
