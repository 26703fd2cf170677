import { freshDatabase, sql } from './db';

describe('test PostgreSQL harness', () => {
  it('serves a fresh database per call on PostgreSQL 15 or later', async () => {
    const a = await freshDatabase();
    const b = await freshDatabase();
    expect(a).not.toEqual(b);
    const [row] = await sql(a, 'SELECT current_setting($1)::int AS v', ['server_version_num']);
    expect(row.v).toBeGreaterThanOrEqual(150000);
  });
});
