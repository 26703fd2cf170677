import { Pool } from 'pg';
import { createAppServer } from './server';
import { createStore, isAppVersion } from './versions';

/**
 * The demo app's entry point (the container's command). APP_VERSION (v1, v2 or v3) selects the
 * data layer; DATABASE_URL connects as the app role, which has DML only; PORT defaults to 8080.
 */
export async function startApp(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ close(): Promise<void>; port: number }> {
  const version = env.APP_VERSION;
  if (!isAppVersion(version))
    throw new Error(`APP_VERSION must be v1, v2 or v3, not ${version === undefined ? 'unset' : `"${version}"`}`);
  if (!env.DATABASE_URL) throw new Error("DATABASE_URL must be set to the app role's connection URL");
  const pool = new Pool({ connectionString: env.DATABASE_URL, max: Number(env.DB_POOL_SIZE ?? 10) });
  const server = createAppServer(createStore(version, pool));
  const port = Number(env.PORT ?? 8080);
  await new Promise<void>((resolve) => server.listen(port, resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
    },
  };
}

if (require.main === module) {
  startApp().then(
    (app) => {
      process.stdout.write(`demo app ${process.env.APP_VERSION} listening on port ${app.port}\n`);
      const stop = () => void app.close().then(() => process.exit(0));
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    },
    (err: Error) => {
      process.stderr.write(`demo app failed to start: ${err.message}\n`);
      process.exit(1);
    },
  );
}
