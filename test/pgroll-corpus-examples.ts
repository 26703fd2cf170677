import { TableShape } from './catalog-snapshot';

/**
 * pgroll's example corpus (xataio/pgroll, examples/01..56, without 04_rename_table), as data:
 * per example, the Tandem spec files that translate it (in order), the schema the example means
 * to leave in each table it touches (read from pgroll's example, not from running Tandem), the
 * plain DDL with the same end (run to stand in for an example Tandem cannot run yet, and by a
 * test that checks this file's expectations against PostgreSQL itself), and what the old
 * versions write to the tables meanwhile.
 *
 * pgroll's columns are NOT NULL unless `nullable: true`; its `unique: true` and `pk: true` leave
 * the names to PostgreSQL (customers_name_key, customers_pkey).
 */
export interface PgrollExample {
  /** pgroll's file name, without .yaml. */
  readonly id: string;
  /** migrations/pgroll/ spec files, run in order. */
  readonly specs: readonly string[];
  /** Per table the example touches: its shape after the example from its shape before (null: absent). */
  readonly touch: Readonly<Record<string, (before: TableShape | null) => TableShape | null>>;
  /** Enum types the example creates, with their labels. */
  readonly types?: Readonly<Record<string, readonly string[]>>;
  /** The same end in plain DDL (what pgroll's example amounts to once complete). */
  readonly sql: string;
  /** For two specs: the plain DDL from where the first spec ends to the example's end. */
  readonly afterFirstSpec?: string;
  /** table.column whose values the example rewrites on purpose (its `up`): not compared after it. */
  readonly rewrites?: readonly string[];
}

const V = 'character varying(255)';
const NN = ' not null';
const serial = (table: string, column = 'id') => `integer not null default nextval('${table}_${column}_seq'::regclass)`;
const btree = (table: string, name: string, cols: string, unique = false) =>
  `CREATE ${unique ? 'UNIQUE ' : ''}INDEX ${name} ON public.${table} USING btree (${cols})`;
const pkey = (table: string, cols: string, name = `${table}_pkey`) => ({
  c: { [name]: `PRIMARY KEY (${cols})` },
  i: { [name]: btree(table, name, cols, true) },
});

function shape(
  columns: Record<string, string>,
  constraints: Record<string, string> = {},
  indexes: Record<string, string> = {},
  more: Partial<TableShape> = {},
): TableShape {
  return { columns, constraints, indexes, replicaIdentity: 'default', comment: null, triggers: [], ...more };
}

/** A change to a table's shape: added or replaced entries, removed names, other fields. */
interface Change {
  columns?: Record<string, string>;
  dropColumns?: string[];
  constraints?: Record<string, string>;
  dropConstraints?: string[];
  indexes?: Record<string, string>;
  dropIndexes?: string[];
  replicaIdentity?: string;
  comment?: string | null;
}

function without(record: Record<string, string>, names: string[] = []): Record<string, string> {
  return Object.fromEntries(Object.entries(record).filter(([k]) => !names.includes(k)));
}

/** The shape after `change`; the example's table must exist before it. */
const change =
  (c: Change) =>
  (before: TableShape | null): TableShape => {
    if (!before) throw new Error('the table does not exist before this example (an earlier example did not leave it)');
    return {
      ...before,
      columns: { ...without(before.columns, c.dropColumns), ...c.columns },
      constraints: { ...without(before.constraints, c.dropConstraints), ...c.constraints },
      indexes: { ...without(before.indexes, c.dropIndexes), ...c.indexes },
      ...(c.replicaIdentity !== undefined ? { replicaIdentity: c.replicaIdentity } : {}),
      ...(c.comment !== undefined ? { comment: c.comment } : {}),
    };
  };
const created = (t: TableShape) => () => t;

const customersPk = pkey('customers', 'id');
const billsPk = pkey('bills', 'id');
const sellersPk = pkey('sellers', 'name, zip');
const productsPk = pkey('products', 'id');
const fruitsPk = pkey('fruits', 'id');
const reviewsPk = pkey('reviews', 'id');
const postsPk = pkey('posts', 'id');
const peoplePk = pkey('people', 'id');
const eventsPk = pkey('events', 'id');
const ticketsPk = pkey('tickets', 'ticket_id');

export const EXAMPLES: readonly PgrollExample[] = [
  {
    id: '01_create_tables',
    specs: ['01-create-tables.yaml'],
    touch: {
      customers: created(
        shape(
          { id: `integer${NN}`, name: `${V}${NN}`, credit_card: 'text' },
          { ...customersPk.c, customers_name_key: 'UNIQUE (name)' },
          { ...customersPk.i, customers_name_key: btree('customers', 'customers_name_key', 'name', true) },
        ),
      ),
      bills: created(
        shape({ id: `integer${NN}`, date: `time with time zone${NN}`, quantity: `integer${NN}` }, billsPk.c, billsPk.i),
      ),
      sellers: created(shape({ name: `${V}${NN}`, zip: `integer${NN}`, description: V }, sellersPk.c, sellersPk.i)),
    },
    sql: `CREATE TABLE customers (id integer PRIMARY KEY, name varchar(255) NOT NULL UNIQUE, credit_card text);
          CREATE TABLE bills (id integer PRIMARY KEY, date time with time zone NOT NULL, quantity integer NOT NULL);
          CREATE TABLE sellers (name varchar(255) NOT NULL, zip integer NOT NULL, description varchar(255), PRIMARY KEY (name, zip));`,
  },
  {
    id: '02_create_another_table',
    specs: ['02-create-another-table.yaml'],
    touch: {
      products: created(
        shape(
          { id: serial('products'), name: `${V}${NN}`, price: `numeric(10,2)${NN}` },
          { ...productsPk.c, products_name_key: 'UNIQUE (name)' },
          { ...productsPk.i, products_name_key: btree('products', 'products_name_key', 'name', true) },
        ),
      ),
    },
    sql: `CREATE TABLE products (id serial PRIMARY KEY, name varchar(255) NOT NULL UNIQUE, price decimal(10,2) NOT NULL);`,
  },
  {
    id: '03_add_column',
    specs: ['03-add-column.yaml'],
    touch: {
      products: change({ columns: { description: V, stock: `integer${NN} default 100`, category: `${V}${NN}` } }),
    },
    sql: `ALTER TABLE products ADD COLUMN description varchar(255);
          UPDATE products SET description = upper(name);
          ALTER TABLE products ADD COLUMN stock int NOT NULL DEFAULT 100;
          ALTER TABLE products ADD COLUMN category varchar(255);
          UPDATE products SET category = name || '-category';
          ALTER TABLE products ALTER COLUMN category SET NOT NULL;`,
  },
  {
    id: '05_sql',
    specs: ['05-sql.yaml'],
    touch: {
      users: created(shape({ id: `integer${NN}`, name: 'text' }, pkey('users', 'id').c, pkey('users', 'id').i)),
    },
    sql: `CREATE TABLE users (id integer PRIMARY KEY, name text);`,
  },
  {
    id: '06_add_column_to_sql_table',
    specs: ['06-add-column-to-sql-table.yaml'],
    touch: { users: change({ columns: { description: V } }) },
    sql: `ALTER TABLE users ADD COLUMN description varchar(255); UPDATE users SET description = upper(name);`,
  },
  {
    id: '07_drop_table',
    specs: ['07-drop-table.yaml'],
    touch: { products: () => null },
    sql: `DROP TABLE products;`,
  },
  {
    id: '08_create_fruits_table',
    specs: ['08-create-fruits-table.yaml'],
    touch: {
      fruits: created(
        shape(
          { id: `bigint${NN} identity by default`, name: `${V}${NN}`, price: `numeric(10,2)${NN}` },
          { ...fruitsPk.c, fruits_name_key: 'UNIQUE (name)' },
          { ...fruitsPk.i, fruits_name_key: btree('fruits', 'fruits_name_key', 'name', true) },
        ),
      ),
    },
    sql: `CREATE TABLE fruits (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name varchar(255) NOT NULL UNIQUE, price decimal(10,2) NOT NULL);`,
  },
  {
    id: '09_drop_column',
    specs: ['09-drop-column.yaml'],
    touch: { fruits: change({ dropColumns: ['price'] }) },
    sql: `ALTER TABLE fruits DROP COLUMN price;`,
  },
  {
    id: '10_create_index',
    specs: ['10-create-index.yaml'],
    touch: { fruits: change({ indexes: { idx_fruits_name: btree('fruits', 'idx_fruits_name', 'name') } }) },
    sql: `CREATE INDEX idx_fruits_name ON fruits (name);`,
  },
  {
    id: '11_drop_index',
    specs: ['11-drop-index.yaml'],
    touch: { fruits: change({ dropIndexes: ['idx_fruits_name'] }) },
    sql: `DROP INDEX idx_fruits_name;`,
  },
  {
    id: '12_create_employees_table',
    specs: ['12-create-employees-table.yaml'],
    touch: {
      employees: created(
        shape(
          { id: serial('employees'), role: `${V}${NN} comment 'This is a comment for the role column'` },
          pkey('employees', 'id').c,
          pkey('employees', 'id').i,
          {
            comment: 'This is a comment for the employees table',
          },
        ),
      ),
    },
    sql: `CREATE TABLE employees (id serial PRIMARY KEY, role varchar(255) NOT NULL);
          COMMENT ON TABLE employees IS 'This is a comment for the employees table';
          COMMENT ON COLUMN employees.role IS 'This is a comment for the role column';`,
  },
  {
    id: '13_rename_column',
    specs: ['13-rename-column.yaml'],
    touch: {
      employees: change({
        dropColumns: ['role'],
        columns: { job_title: `${V}${NN} comment 'This is a comment for the role column'` },
      }),
    },
    sql: `ALTER TABLE employees RENAME COLUMN role TO job_title;`,
  },
  {
    id: '14_add_reviews_table',
    specs: ['14-add-reviews-table.yaml'],
    touch: {
      reviews: created(
        shape(
          { id: serial('reviews'), username: `text${NN}`, product: `text${NN}`, review: 'text' },
          reviewsPk.c,
          reviewsPk.i,
        ),
      ),
    },
    sql: `CREATE TABLE reviews (id serial PRIMARY KEY, username text NOT NULL, product text NOT NULL, review text);`,
  },
  {
    id: '15_set_column_unique',
    specs: ['15-set-column-unique.yaml', '15b-rename-review-back.yaml'],
    touch: {
      reviews: change({
        constraints: { reviews_review_unique: 'UNIQUE (review)' },
        indexes: { reviews_review_unique: btree('reviews', 'reviews_review_unique', 'review', true) },
      }),
    },
    rewrites: ['reviews.review'],
    sql: `UPDATE reviews SET review = review || '-' || (random() * 1000000)::integer;
          ALTER TABLE reviews ADD CONSTRAINT reviews_review_unique UNIQUE (review);`,
    afterFirstSpec: `ALTER TABLE reviews RENAME COLUMN review_new TO review;`,
  },
  {
    id: '16_set_nullable',
    specs: ['16-set-nullable.yaml', '16b-rename-review-back.yaml'],
    touch: { reviews: change({ columns: { review: `text${NN}` } }) },
    sql: `UPDATE reviews SET review = product || ' is good' WHERE review IS NULL; ALTER TABLE reviews ALTER COLUMN review SET NOT NULL;`,
    afterFirstSpec: `ALTER TABLE reviews RENAME COLUMN review_not_null TO review;`,
  },
  {
    id: '17_add_rating_column',
    specs: ['17-add-rating-column.yaml'],
    touch: { reviews: change({ columns: { rating: `text${NN} default '0'::text` } }) },
    sql: `ALTER TABLE reviews ADD COLUMN rating text NOT NULL DEFAULT '0';`,
  },
  {
    id: '18_change_column_type',
    specs: ['18-change-column-type.yaml', '18b-rename-rating-back.yaml'],
    // pgroll copies the default as it is ('0'::text) and ignores the type mismatch, so it loses it;
    // Tandem converts it to the new type (change_type's documented behaviour), which keeps what it means.
    touch: { reviews: change({ columns: { rating: `integer${NN} default ('0'::text)::integer` } }) },
    sql: `ALTER TABLE reviews ALTER COLUMN rating DROP DEFAULT;
          ALTER TABLE reviews ALTER COLUMN rating TYPE integer USING CAST(rating AS integer);
          ALTER TABLE reviews ALTER COLUMN rating SET DEFAULT ('0'::text)::integer;`,
    afterFirstSpec: `ALTER TABLE reviews RENAME COLUMN rating_int TO rating;`,
  },
  {
    id: '19_create_orders_table',
    specs: ['19-create-orders-table.yaml'],
    touch: {
      orders: created(
        shape(
          { id: serial('orders'), user_id: `integer${NN}`, quantity: `integer${NN}` },
          { ...pkey('orders', 'id').c, fk_users_id: 'FOREIGN KEY (user_id) REFERENCES users(id)' },
          pkey('orders', 'id').i,
        ),
      ),
    },
    sql: `CREATE TABLE orders (id serial PRIMARY KEY, user_id integer NOT NULL CONSTRAINT fk_users_id REFERENCES users (id), quantity int NOT NULL);`,
  },
  {
    id: '20_create_posts_table',
    specs: ['20-create-posts-table.yaml'],
    touch: {
      posts: created(shape({ id: serial('posts'), title: `${V}${NN}`, user_id: 'integer' }, postsPk.c, postsPk.i)),
    },
    sql: `CREATE TABLE posts (id serial PRIMARY KEY, title varchar(255) NOT NULL, user_id integer);`,
  },
  {
    id: '21_add_foreign_key_constraint',
    specs: ['21-add-foreign-key-constraint.yaml', '21b-rename-user-id-back.yaml'],
    touch: {
      posts: change({ constraints: { fk_users_id: 'FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE' } }),
    },
    rewrites: ['posts.user_id'],
    sql: `UPDATE posts SET user_id = NULL WHERE NOT EXISTS (SELECT 1 FROM users WHERE users.id = posts.user_id);
          ALTER TABLE posts ADD CONSTRAINT fk_users_id FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;`,
    afterFirstSpec: `ALTER TABLE posts RENAME COLUMN user_id_new TO user_id;`,
  },
  {
    id: '22_add_check_constraint',
    specs: ['22-add-check-constraint.yaml', '22b-rename-title-back.yaml'],
    touch: { posts: change({ constraints: { title_length: 'CHECK ((length((title)::text) > 3))' } }) },
    rewrites: ['posts.title'],
    sql: `UPDATE posts SET title = lpad(title, 4, '-') WHERE length(title) <= 3;
          ALTER TABLE posts ADD CONSTRAINT title_length CHECK (length(title) > 3);`,
    afterFirstSpec: `ALTER TABLE posts RENAME COLUMN title_new TO title;`,
  },
  {
    id: '23_drop_check_constraint',
    specs: ['23-drop-check-constraint.yaml'],
    touch: { posts: change({ dropConstraints: ['title_length'] }) },
    sql: `ALTER TABLE posts DROP CONSTRAINT title_length;`,
  },
  {
    id: '24_drop_foreign_key_constraint',
    specs: ['24-drop-foreign-key-constraint.yaml'],
    touch: { posts: change({ dropConstraints: ['fk_users_id'] }) },
    sql: `ALTER TABLE posts DROP CONSTRAINT fk_users_id;`,
  },
  {
    id: '25_add_table_with_check_constraint',
    specs: ['25-add-table-with-check-constraint.yaml'],
    touch: {
      people: created(
        shape(
          { id: `integer${NN}`, name: `${V}${NN}` },
          { ...peoplePk.c, name_length: 'CHECK ((length((name)::text) > 3))' },
          peoplePk.i,
        ),
      ),
    },
    sql: `CREATE TABLE people (id integer PRIMARY KEY, name varchar(255) NOT NULL CONSTRAINT name_length CHECK (length(name) > 3));`,
  },
  {
    id: '26_add_column_with_check_constraint',
    specs: ['26-add-column-with-check-constraint.yaml'],
    touch: {
      people: change({
        columns: { age: `integer${NN} default 18` },
        constraints: { age_check: 'CHECK ((age >= 18))' },
      }),
    },
    sql: `ALTER TABLE people ADD COLUMN age integer NOT NULL DEFAULT 18 CONSTRAINT age_check CHECK (age >= 18);`,
  },
  {
    id: '27_drop_unique_constraint',
    specs: ['27-drop-unique-constraint.yaml'],
    touch: { reviews: change({ dropConstraints: ['reviews_review_unique'], dropIndexes: ['reviews_review_unique'] }) },
    sql: `ALTER TABLE reviews DROP CONSTRAINT reviews_review_unique;`,
  },
  {
    id: '28_different_defaults',
    specs: ['28-different-defaults.yaml'],
    touch: {
      items: created(
        shape(
          {
            id: serial('items'),
            name: `${V}${NN} default 'unnamed'::character varying`,
            price: `numeric(10,2)${NN} default 0.00`,
            created_at: `timestamp with time zone${NN} default now()`,
          },
          pkey('items', 'id').c,
          pkey('items', 'id').i,
        ),
      ),
    },
    sql: `CREATE TABLE items (id serial PRIMARY KEY, name varchar(255) NOT NULL DEFAULT 'unnamed', price decimal(10,2) NOT NULL DEFAULT 0.00, created_at timestamptz NOT NULL DEFAULT now());`,
  },
  {
    id: '29_set_replica_identity',
    specs: ['29-set-replica-identity.yaml'],
    touch: { fruits: change({ replicaIdentity: 'index fruits_pkey' }) },
    sql: `ALTER TABLE fruits REPLICA IDENTITY USING INDEX fruits_pkey;`,
  },
  {
    id: '30_add_column_simple_up',
    specs: ['30-add-column-simple-up.yaml'],
    touch: {
      people: change({ columns: { description: `${V}${NN} comment 'This is a comment for the description column'` } }),
    },
    sql: `ALTER TABLE people ADD COLUMN description varchar(255);
          UPDATE people SET description = 'temporary-description';
          ALTER TABLE people ALTER COLUMN description SET NOT NULL;
          COMMENT ON COLUMN people.description IS 'This is a comment for the description column';`,
  },
  {
    id: '31_unset_not_null',
    specs: ['31-unset-not-null.yaml', '31b-rename-title-back.yaml'],
    touch: { posts: change({ columns: { title: V } }) },
    sql: `ALTER TABLE posts ALTER COLUMN title DROP NOT NULL;`,
    afterFirstSpec: `ALTER TABLE posts RENAME COLUMN title_nullable TO title;`,
  },
  {
    id: '32_sql_on_complete',
    specs: ['32-sql-on-complete.yaml'],
    touch: { people: change({ columns: { birth_date: 'timestamp without time zone' } }) },
    sql: `ALTER TABLE people ADD COLUMN birth_date timestamp;`,
  },
  {
    id: '33_rename_check_constraint',
    specs: ['33-rename-check-constraint.yaml'],
    touch: {
      people: change({
        dropConstraints: ['name_length'],
        constraints: { name_length_check: 'CHECK ((length((name)::text) > 3))' },
      }),
    },
    sql: `ALTER TABLE people RENAME CONSTRAINT name_length TO name_length_check;`,
  },
  {
    id: '34_create_events_table',
    specs: ['34-create-events-table.yaml'],
    touch: {
      events: created(
        shape(
          {
            id: serial('events'),
            name: `${V} default '<placeholder>'::character varying comment 'the name of the event'`,
          },
          eventsPk.c,
          eventsPk.i,
        ),
      ),
    },
    sql: `CREATE TABLE events (id serial PRIMARY KEY, name varchar(255) DEFAULT '<placeholder>');
          COMMENT ON COLUMN events.name IS 'the name of the event';`,
  },
  {
    id: '35_alter_column_multiple',
    specs: ['35-alter-column-multiple.yaml', '35b-name-not-null.yaml'],
    touch: {
      events: change({
        columns: { name: `text${NN} default 'unknown event'::text comment 'the full name of the event'` },
        constraints: { events_event_name_unique: 'UNIQUE (name)', event_name_length: 'CHECK ((length(name) > 3))' },
        indexes: { events_event_name_unique: btree('events', 'events_event_name_unique', 'name', true) },
      }),
    },
    rewrites: ['events.name'],
    sql: `UPDATE events SET name = 'placeholder' WHERE name IS NULL OR length(name) <= 3;
          ALTER TABLE events ALTER COLUMN name TYPE text, ALTER COLUMN name SET DEFAULT 'unknown event', ALTER COLUMN name SET NOT NULL;
          ALTER TABLE events ADD CONSTRAINT events_event_name_unique UNIQUE (name), ADD CONSTRAINT event_name_length CHECK (length(name) > 3);
          COMMENT ON COLUMN events.name IS 'the full name of the event';`,
    afterFirstSpec: `ALTER TABLE events RENAME COLUMN name_text TO name;
          UPDATE events SET name = 'placeholder' WHERE name IS NULL;
          ALTER TABLE events ALTER COLUMN name SET NOT NULL;
          ALTER TABLE events ADD CONSTRAINT events_event_name_unique UNIQUE (name), ADD CONSTRAINT event_name_length CHECK (length(name) > 3);
          COMMENT ON COLUMN events.name IS 'the full name of the event';`,
  },
  {
    id: '36_set_comment_to_null',
    specs: ['36-set-comment-to-null.yaml'],
    touch: { events: change({ columns: { name: `text${NN} default 'unknown event'::text` } }) },
    sql: `COMMENT ON COLUMN events.name IS NULL;`,
  },
  {
    id: '37_create_partial_index',
    specs: ['37-create-partial-index.yaml'],
    touch: {
      fruits: change({
        indexes: { idx_fruits_id_gt_10: `${btree('fruits', 'idx_fruits_id_gt_10', 'id')} WHERE (id > 10)` },
      }),
    },
    sql: `CREATE INDEX idx_fruits_id_gt_10 ON fruits (id) WHERE id > 10;`,
  },
  {
    id: '38_create_hash_index_with_fillfactor',
    specs: ['38-create-hash-index-with-fillfactor.yaml'],
    touch: {
      fruits: change({
        indexes: {
          idx_fruits_name: `CREATE INDEX idx_fruits_name ON public.fruits USING hash (name) WITH (fillfactor='70')`,
        },
      }),
    },
    sql: `CREATE INDEX idx_fruits_name ON fruits USING hash (name) WITH (fillfactor = 70);`,
  },
  {
    id: '39_add_column_with_multiple_pk_in_table',
    specs: ['39-add-column-with-multiple-pk-in-table.yaml'],
    touch: { sellers: change({ columns: { rating: `integer${NN} default 10` } }) },
    sql: `ALTER TABLE sellers ADD COLUMN rating int NOT NULL DEFAULT 10;`,
  },
  {
    id: '40_create_enum_type',
    specs: ['40-create-enum-type.yaml'],
    touch: {},
    types: { fruit_size: ['small', 'medium', 'large'] },
    sql: `CREATE TYPE fruit_size AS ENUM ('small', 'medium', 'large');`,
  },
  {
    id: '41_add_enum_column',
    specs: ['41-add-enum-column.yaml'],
    touch: { fruits: change({ columns: { size: `fruit_size${NN} default 'small'::fruit_size` } }) },
    sql: `ALTER TABLE fruits ADD COLUMN size fruit_size NOT NULL DEFAULT 'small';`,
  },
  {
    id: '42_create_unique_index',
    specs: ['42-create-unique-index.yaml'],
    touch: {
      fruits: change({ indexes: { idx_fruits_unique_name: btree('fruits', 'idx_fruits_unique_name', 'name', true) } }),
    },
    sql: `CREATE UNIQUE INDEX idx_fruits_unique_name ON fruits (name);`,
  },
  {
    id: '43_create_tickets_table',
    specs: ['43-create-tickets-table.yaml'],
    touch: {
      tickets: created(
        shape(
          {
            ticket_id: serial('tickets', 'ticket_id'),
            sellers_name: `${V}${NN}`,
            sellers_zip: `integer${NN}`,
            ticket_type: `${V}${NN} default 'paper'::character varying`,
          },
          ticketsPk.c,
          ticketsPk.i,
        ),
      ),
    },
    sql: `CREATE TABLE tickets (ticket_id serial PRIMARY KEY, sellers_name varchar(255) NOT NULL, sellers_zip integer NOT NULL, ticket_type varchar(255) NOT NULL DEFAULT 'paper');`,
  },
  {
    id: '44_add_table_unique_constraint',
    specs: ['44-add-table-unique-constraint.yaml'],
    touch: {
      tickets: change({
        constraints: { unique_zip_name: 'UNIQUE (sellers_name, sellers_zip)' },
        indexes: { unique_zip_name: btree('tickets', 'unique_zip_name', 'sellers_name, sellers_zip', true) },
      }),
    },
    sql: `ALTER TABLE tickets ADD CONSTRAINT unique_zip_name UNIQUE (sellers_name, sellers_zip);`,
  },
  {
    id: '45_add_table_check_constraint',
    specs: ['45-add-table-check-constraint.yaml', '45b-rename-sellers-zip-back.yaml'],
    touch: {
      tickets: change({
        constraints: { check_zip_name: `CHECK ((((sellers_name)::text = 'alice'::text) OR (sellers_zip > 0)))` },
      }),
    },
    rewrites: ['tickets.sellers_zip'],
    sql: `UPDATE tickets SET sellers_zip = 123 WHERE sellers_name <> 'alice' AND sellers_zip <= 0;
          ALTER TABLE tickets ADD CONSTRAINT check_zip_name CHECK (sellers_name = 'alice' OR sellers_zip > 0);`,
    afterFirstSpec: `ALTER TABLE tickets RENAME COLUMN sellers_zip_new TO sellers_zip;`,
  },
  {
    id: '46_alter_column_drop_default',
    specs: ['46-alter-column-drop-default.yaml'],
    touch: { tickets: change({ columns: { ticket_type: `${V}${NN}` } }) },
    sql: `ALTER TABLE tickets ALTER COLUMN ticket_type DROP DEFAULT;`,
  },
  {
    id: '47_add_table_foreign_key_constraint',
    specs: ['47-add-table-foreign-key-constraint.yaml'],
    touch: {
      tickets: change({
        constraints: { fk_sellers: 'FOREIGN KEY (sellers_name, sellers_zip) REFERENCES sellers(name, zip)' },
      }),
    },
    sql: `ALTER TABLE tickets ADD CONSTRAINT fk_sellers FOREIGN KEY (sellers_name, sellers_zip) REFERENCES sellers (name, zip);`,
  },
  {
    id: '48_drop_tickets_check',
    specs: ['48-drop-tickets-check.yaml'],
    touch: { tickets: change({ dropConstraints: ['check_zip_name'] }) },
    sql: `ALTER TABLE tickets DROP CONSTRAINT check_zip_name;`,
  },
  {
    id: '49_unset_not_null_on_indexed_column',
    specs: ['49-unset-not-null-on-indexed-column.yaml', '49b-rename-name-back.yaml'],
    touch: { fruits: change({ columns: { name: V } }) },
    sql: `ALTER TABLE fruits ALTER COLUMN name DROP NOT NULL;`,
    afterFirstSpec: `ALTER TABLE fruits RENAME COLUMN name_nullable TO name;`,
  },
  {
    id: '50_create_table_with_table_constraint',
    specs: ['50-create-table-with-table-constraint.yaml'],
    touch: {
      telephone_providers: created(
        shape(
          { id: serial('telephone_providers'), name: `${V}${NN}`, tax_id: `${V}${NN}`, headquarters: `${V}${NN}` },
          {
            provider_pk: 'PRIMARY KEY (id)',
            unique_tax_id: 'UNIQUE (tax_id)',
            name_must_be_present: 'CHECK ((length((name)::text) > 0))',
          },
          {
            provider_pk: btree('telephone_providers', 'provider_pk', 'id', true),
            unique_tax_id: btree('telephone_providers', 'unique_tax_id', 'tax_id', true),
          },
        ),
      ),
    },
    sql: `CREATE TABLE telephone_providers (id serial, name varchar(255) NOT NULL, tax_id varchar(255) NOT NULL, headquarters varchar(255) NOT NULL,
            CONSTRAINT provider_pk PRIMARY KEY (id), CONSTRAINT unique_tax_id UNIQUE (tax_id), CONSTRAINT name_must_be_present CHECK (length(name) > 0));`,
  },
  {
    id: '51_create_table_with_table_foreign_key_constraint',
    specs: ['51-create-table-with-table-foreign-key-constraint.yaml'],
    touch: {
      phonebook: created(
        shape(
          {
            id: serial('phonebook'),
            provider_id: serial('phonebook', 'provider_id'),
            name: `${V}${NN}`,
            city: `${V}${NN}`,
            phone: `${V}${NN}`,
          },
          {
            phonebook_pk: 'PRIMARY KEY (id)',
            provider_fk:
              'FOREIGN KEY (provider_id) REFERENCES telephone_providers(id) ON UPDATE CASCADE ON DELETE CASCADE',
            unique_numbers: 'UNIQUE (phone) INCLUDE (name)',
            name_must_be_present: 'CHECK ((length((name)::text) > 0))',
          },
          {
            phonebook_pk: btree('phonebook', 'phonebook_pk', 'id', true),
            unique_numbers: `${btree('phonebook', 'unique_numbers', 'phone', true)} INCLUDE (name)`,
          },
        ),
      ),
    },
    sql: `CREATE TABLE phonebook (id serial, provider_id serial, name varchar(255) NOT NULL, city varchar(255) NOT NULL, phone varchar(255) NOT NULL,
            CONSTRAINT phonebook_pk PRIMARY KEY (id),
            CONSTRAINT provider_fk FOREIGN KEY (provider_id) REFERENCES telephone_providers (id) MATCH SIMPLE ON DELETE CASCADE ON UPDATE CASCADE NOT DEFERRABLE,
            CONSTRAINT unique_numbers UNIQUE (phone) INCLUDE (name),
            CONSTRAINT name_must_be_present CHECK (length(name) > 0));`,
  },
  {
    id: '52_create_table_with_exclusion_constraint',
    specs: ['52-create-table-with-exclusion-constraint.yaml'],
    touch: {
      library: created(
        shape(
          {
            id: serial('library'),
            returned: `timestamp without time zone${NN}`,
            title: `text${NN}`,
            summary: `text${NN}`,
          },
          {
            rooms_pk: 'PRIMARY KEY (id)',
            forbid_duplicated_titles: 'EXCLUDE USING btree (title WITH =) WHERE ((title IS NOT NULL))',
          },
          {
            rooms_pk: btree('library', 'rooms_pk', 'id', true),
            forbid_duplicated_titles: `${btree('library', 'forbid_duplicated_titles', 'title')} WHERE (title IS NOT NULL)`,
          },
        ),
      ),
    },
    sql: `CREATE TABLE library (id serial, returned timestamp NOT NULL, title text NOT NULL, summary text NOT NULL,
            CONSTRAINT rooms_pk PRIMARY KEY (id), CONSTRAINT forbid_duplicated_titles EXCLUDE USING btree (title WITH =) WHERE (title IS NOT NULL));`,
  },
  {
    id: '53_add_column_with_volatile_default',
    specs: ['53-add-column-with-volatile-default.yaml'],
    touch: {
      library: change({ columns: { value: `integer${NN} default ((random() * (1000)::double precision))::integer` } }),
    },
    sql: `ALTER TABLE library ADD COLUMN value int NOT NULL DEFAULT (random() * 1000)::int;`,
  },
  {
    id: '54_create_index_with_opclass',
    specs: ['54-create-index-with-opclass.yaml'],
    // int8_ops is bigint's default btree operator class, which pg_get_indexdef does not print.
    touch: {
      fruits: change({ indexes: { idx_fruits_custom_opclass: btree('fruits', 'idx_fruits_custom_opclass', 'id') } }),
    },
    sql: `CREATE INDEX idx_fruits_custom_opclass ON fruits (id int8_ops);`,
  },
  {
    id: '55_add_primary_key_constraint_to_table',
    specs: ['55-add-primary-key-constraint-to-table.yaml'],
    touch: {
      tasks: created(
        shape(
          { id: serial('tasks'), title: `${V}${NN}`, description: `${V}${NN}`, deadline: `time with time zone${NN}` },
          pkey('tasks', 'id').c,
          pkey('tasks', 'id').i,
        ),
      ),
    },
    sql: `CREATE TABLE tasks (id serial, title varchar(255) NOT NULL, description varchar(255) NOT NULL, deadline time with time zone NOT NULL);
          ALTER TABLE tasks ADD CONSTRAINT tasks_pkey PRIMARY KEY (id);`,
  },
  {
    id: '56_with_version_schema',
    specs: ['56-with-version-schema.yaml'],
    touch: {
      products: created(
        shape(
          { id: serial('products'), name: `${V}${NN}` },
          { ...productsPk.c, products_name_key: 'UNIQUE (name)' },
          { ...productsPk.i, products_name_key: btree('products', 'products_name_key', 'name', true) },
        ),
      ),
    },
    sql: `CREATE TABLE products (id serial PRIMARY KEY, name varchar(255) NOT NULL UNIQUE);`,
  },
];

/**
 * What an old version writes to each table: its primary key columns (filled by a default when not
 * listed) and, per column it may know (the names a column has between two specs too), a value as SQL: a literal (compared after the example) or
 * an expression in parentheses (a reference to another table's row; not compared).
 */
export interface TableWriter {
  readonly key: readonly string[];
  /** SQL the old version runs before it writes the row with number k (a row the write references). */
  readonly before?: (k: number) => string;
  readonly values: Readonly<Record<string, (k: number) => string>>;
}

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

export const WRITERS: Readonly<Record<string, TableWriter>> = {
  customers: {
    key: ['id'],
    values: { id: (k) => `${k}`, name: (k) => lit(`customer-${k}`), credit_card: (k) => lit(`cc-${k}`) },
  },
  bills: { key: ['id'], values: { id: (k) => `${k}`, date: () => lit('10:00:00+00'), quantity: (k) => `${k}` } },
  sellers: {
    key: ['name', 'zip'],
    values: {
      name: (k) => lit(`seller-${k}`),
      zip: (k) => `${k}`,
      description: (k) => lit(`d-${k}`),
      rating: () => '5',
    },
  },
  products: {
    key: ['id'],
    values: {
      name: (k) => lit(`product-${k}`),
      price: () => lit('2.50'),
      description: (k) => lit(`D-${k}`),
      stock: () => '7',
      category: () => lit('c'),
    },
  },
  users: {
    key: ['id'],
    values: { id: (k) => `${k}`, name: (k) => lit(`user-${k}`), description: (k) => lit(`U-${k}`) },
  },
  fruits: {
    key: ['id'],
    values: {
      name: (k) => lit(`fruit-${k}`),
      name_nullable: (k) => lit(`fruit-${k}`),
      price: () => lit('1.25'),
      size: () => lit('medium'),
    },
  },
  employees: { key: ['id'], values: { role: (k) => lit(`role-${k}`), job_title: (k) => lit(`title-${k}`) } },
  reviews: {
    key: ['id'],
    values: {
      username: (k) => lit(`u-${k}`),
      product: (k) => lit(`p-${k}`),
      review: (k) => lit(`review-${k}`),
      review_not_null: (k) => lit(`review-${k}`),
      review_new: (k) => lit(`review-${k}`),
      rating: () => lit('5'),
      rating_int: () => '5',
    },
  },
  orders: { key: ['id'], values: { user_id: () => '(SELECT min(id) FROM users)', quantity: (k) => `${k}` } },
  posts: {
    key: ['id'],
    values: {
      title: (k) => lit(`title-${k}`),
      title_nullable: (k) => lit(`title-${k}`),
      title_new: (k) => lit(`title-${k}`),
      user_id: () => '(SELECT min(id) FROM users)',
      user_id_new: () => '(SELECT min(id) FROM users)',
    },
  },
  people: {
    key: ['id'],
    values: {
      id: (k) => `${k}`,
      name: (k) => lit(`person-${k}`),
      age: () => '30',
      description: (k) => lit(`about-${k}`),
      birth_date: () => lit('2024-01-01 00:00:00'),
    },
  },
  items: { key: ['id'], values: { name: (k) => lit(`item-${k}`), price: () => lit('3.00') } },
  events: { key: ['id'], values: { name: (k) => lit(`event-${k}`), name_text: (k) => lit(`event-${k}`) } },
  tickets: {
    key: ['ticket_id'],
    // Each ticket its own seller: (sellers_name, sellers_zip) becomes unique (44) and references sellers (47).
    before: (k) => `INSERT INTO sellers (name, zip) VALUES (${lit(`ticket-seller-${k}`)}, ${k})`,
    values: {
      sellers_name: (k) => lit(`ticket-seller-${k}`),
      sellers_zip: (k) => `${k}`,
      sellers_zip_new: (k) => `${k}`,
      ticket_type: (k) => lit(`type-${k}`),
    },
  },
  telephone_providers: {
    key: ['id'],
    values: { name: (k) => lit(`provider-${k}`), tax_id: (k) => lit(`tax-${k}`), headquarters: () => lit('hq') },
  },
  phonebook: {
    key: ['id'],
    values: {
      provider_id: () => '(SELECT min(id) FROM telephone_providers)',
      name: (k) => lit(`n-${k}`),
      city: () => lit('c'),
      phone: (k) => lit(`+${k}`),
    },
  },
  library: {
    key: ['id'],
    values: {
      returned: () => lit('2024-01-01 00:00:00'),
      title: (k) => lit(`book-${k}`),
      summary: () => lit('s'),
      value: () => '5',
    },
  },
  tasks: {
    key: ['id'],
    values: { title: (k) => lit(`task-${k}`), description: () => lit('d'), deadline: () => lit('10:00:00+00') },
  },
};
