import { startScratchPostgres } from '../rehearsal/scratch-postgres';

/** One throwaway PostgreSQL for the whole run; each test file makes its own database on it. */
export default async function globalSetup(): Promise<void> {
  const server = await startScratchPostgres();
  (globalThis as any).__TANDEM_PG__ = server;
  process.env.TANDEM_TEST_PG_URL = server.url;
}
