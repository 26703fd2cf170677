import { backfill, contract, expand, rollback, verify } from '../executor';
import { parseSpec } from '../phases/sql/spec';
import { freshDatabase, withClient } from './db';

/**
 * add_check / add_unique / add_foreign_key with `up`: the constraint goes on a new column that
 * holds up(old); the old versions keep writing violating values into the old column during the
 * window (their writes succeed), the new column holds them fixed, and contract succeeds without a
 * manual fix.
 */
const opts = (url: string) => ({ databaseUrl: url, lockTimeoutMs: 2000 });
const rows = async (url: string, sql: string) => withClient(url, async (c) => (await c.query(sql)).rows);

async function walk(url: string, yaml: string, oldWrites: string) {
  const spec = parseSpec(yaml);
  await expand(spec, opts(url));
  // An old version (which knows only the old column) writes values the constraint refuses.
  await withClient(url, (c) => c.query(oldWrites));
  await backfill(spec, opts(url));
  const v = await verify(spec, opts(url));
  expect(v.ok).toBe(true);
  expect((await contract(spec, opts(url))).step).toBe('contracted');
}

describe('constraint operations with a data fix', () => {
  it('add_check with up: short titles written by old versions end fixed; the check holds on the new column', async () => {
    const url = await freshDatabase('fix');
    await withClient(url, (c) =>
      c.query(
        `CREATE TABLE posts (id int PRIMARY KEY, title text NOT NULL); INSERT INTO posts VALUES (1, 'hello'), (2, 'a')`,
      ),
    );
    await walk(
      url,
      `name: posts-title-length
table: posts
operations:
  - add_check:
      name: posts_title_length
      column: title
      check: "length(title) > 3"
      up: "CASE WHEN length(title) > 3 THEN title ELSE rpad(title, 4, '-') END"
`,
      `INSERT INTO posts (id, title) VALUES (3, 'ab'); UPDATE posts SET title = 'x' WHERE id = 1`,
    );
    expect(await rows(url, `SELECT id, title_new FROM posts ORDER BY id`)).toEqual([
      { id: 1, title_new: 'x---' },
      { id: 2, title_new: 'a---' },
      { id: 3, title_new: 'ab--' },
    ]);
    expect(
      await rows(
        url,
        `SELECT conname, pg_get_constraintdef(oid) AS d FROM pg_constraint WHERE conrelid = 'posts'::regclass AND contype = 'c'`,
      ),
    ).toEqual([{ conname: 'posts_title_length', d: 'CHECK ((length(title_new) > 3))' }]);
    expect(
      await rows(
        url,
        `SELECT attnotnull FROM pg_attribute WHERE attrelid = 'posts'::regclass AND attname = 'title_new'`,
      ),
    ).toEqual([{ attnotnull: true }]);
  });

  it('add_unique with up: empty emails written by old versions become NULL on the new column; the unique constraint holds', async () => {
    const url = await freshDatabase('fix');
    await withClient(url, (c) =>
      c.query(
        `CREATE TABLE users (id int PRIMARY KEY, email text); INSERT INTO users VALUES (1, 'a@x'), (2, ''), (3, '')`,
      ),
    );
    await walk(
      url,
      `name: users-email-unique
table: users
operations:
  - add_unique: { name: users_email_key, columns: [email], into: mail, up: "nullif(email, '')" }
`,
      `INSERT INTO users VALUES (4, ''), (5, 'b@x')`,
    );
    expect(await rows(url, `SELECT id, mail FROM users ORDER BY id`)).toEqual([
      { id: 1, mail: 'a@x' },
      { id: 2, mail: null },
      { id: 3, mail: null },
      { id: 4, mail: null },
      { id: 5, mail: 'b@x' },
    ]);
    expect(
      await rows(
        url,
        `SELECT conname, pg_get_constraintdef(oid) AS d FROM pg_constraint WHERE conrelid = 'users'::regclass AND contype = 'u'`,
      ),
    ).toEqual([{ conname: 'users_email_key', d: 'UNIQUE (mail)' }]);
  });

  it('add_foreign_key with up: orphans written by old versions are cut loose on the new column; the foreign key holds', async () => {
    const url = await freshDatabase('fix');
    await withClient(url, (c) =>
      c.query(`CREATE TABLE customers (id int PRIMARY KEY); INSERT INTO customers VALUES (1), (2);
               CREATE TABLE orders (id int PRIMARY KEY, customer_id int); INSERT INTO orders VALUES (1, 1), (2, 9)`),
    );
    await walk(
      url,
      `name: orders-customer-fk
table: orders
operations:
  - add_foreign_key:
      name: orders_customer_fk
      columns: [customer_id]
      references: { table: customers, columns: [id] }
      into: customer
      up: "CASE WHEN customer_id IN (SELECT id FROM customers) THEN customer_id END"
`,
      `INSERT INTO orders VALUES (3, 42), (4, 2)`,
    );
    expect(await rows(url, `SELECT id, customer FROM orders ORDER BY id`)).toEqual([
      { id: 1, customer: 1 },
      { id: 2, customer: null },
      { id: 3, customer: null },
      { id: 4, customer: 2 },
    ]);
    expect(
      (
        await rows(
          url,
          `SELECT conname FROM pg_constraint WHERE conrelid = 'orders'::regclass AND contype = 'f' AND convalidated`,
        )
      ).map((r) => r.conname),
    ).toEqual(['orders_customer_fk']);
  });

  it('new versions writing the new column keep the old versions working (down fills the old column)', async () => {
    const url = await freshDatabase('fix');
    await withClient(url, (c) =>
      c.query(`CREATE TABLE posts (id int PRIMARY KEY, title text); INSERT INTO posts VALUES (1, 'hello')`),
    );
    const spec = parseSpec(`name: posts-title-len2
table: posts
operations:
  - add_check: { name: posts_title_len, column: title, check: "length(title) > 3", up: "rpad(title, 4, '-')" }
`);
    await expand(spec, opts(url));
    await withClient(url, async (c) => {
      await c.query(`INSERT INTO posts (id, title_new) VALUES (2, 'written-by-v3')`);
      expect((await c.query(`SELECT title FROM posts WHERE id = 2`)).rows[0].title).toBe('written-by-v3');
    });
  });
});

describe('a data fix rolls back exactly', () => {
  it('add_check with up: rollback drops the new column and the constraint, the old values stay as written', async () => {
    const url = await freshDatabase('fix');
    await withClient(url, (c) =>
      c.query(`CREATE TABLE posts (id int PRIMARY KEY, title text); INSERT INTO posts VALUES (1, 'a')`),
    );
    const spec = parseSpec(`name: posts-fix-rollback
table: posts
operations:
  - add_check: { name: posts_title_len, column: title, check: "length(title) > 3", up: "rpad(title, 4, '-')" }
`);
    await expand(spec, opts(url));
    await withClient(url, (c) => c.query(`INSERT INTO posts (id, title) VALUES (2, 'b')`));
    await rollback(spec, { ...opts(url), force: false });
    expect(await rows(url, `SELECT * FROM posts ORDER BY id`)).toEqual([
      { id: 1, title: 'a' },
      { id: 2, title: 'b' },
    ]);
    expect(
      await rows(url, `SELECT conname FROM pg_constraint WHERE conrelid = 'posts'::regclass AND contype = 'c'`),
    ).toEqual([]);
  });
});
