import { stopAll } from './global-setup';

/** Stops the PostgreSQL and the control plane the global setup started, after every test file (also failed ones). */
export default async function globalTeardown(): Promise<void> {
  await stopAll();
}
