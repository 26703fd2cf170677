import { Client } from 'pg';
import { PENDING_COLUMN, ResolvedSpec } from '../phases/sql/spec';
import { syncsColumns } from '../phases/sql/carrier';
import { FAILED_COLUMN, MARK_COLUMN, STATE_SCHEMA } from '../phases/sql/plan';
import { ReplicationError } from './errors';
import { quoteIdent, quoteQualified } from '../phases/sql/identifiers';

/**
 * Logical replication, checked before expand (validate and expand), from the catalog alone.
 *
 * A publication that publishes the table with every column sends the columns expand adds
 * (the spec's new ones and Tandem's bookkeeping columns) to subscribers whose tables lack them, and their
 * apply worker stops ("missing replicated column") while WAL piles up in the slot. A FOR ALL
 * TABLES publication (or one of Tandem's state schema) also publishes Tandem's own state tables,
 * which no subscriber has. A publication with a column list for the table does not send columns
 * added later, so it keeps running. On a subscriber, the apply worker's writes do not fire the sync
 * trigger (replica session), so they would never be synced. Each is refused, naming the steps that
 * keep replication running; nothing is ever broken silently.
 */

interface Finding {
  readonly publication: string;
  readonly how: 'all_tables' | 'schema' | 'table' | 'state';
  readonly schema: string | null;
}

const PUBLICATIONS_SQL = `
WITH tree AS (SELECT $1::oid AS relid UNION SELECT relid FROM pg_partition_tree($1::oid::regclass) UNION SELECT relid FROM pg_partition_ancestors($1::oid::regclass)),
     spaces AS (SELECT DISTINCT c.relnamespace AS nsp FROM tree JOIN pg_class c ON c.oid = tree.relid)
SELECT p.pubname AS publication, 'all_tables' AS how, NULL AS schema FROM pg_publication p WHERE p.puballtables
UNION ALL
SELECT p.pubname, CASE WHEN n.nspname = $2 THEN 'state' ELSE 'schema' END, n.nspname
  FROM pg_publication p JOIN pg_publication_namespace pn ON pn.pnpubid = p.oid JOIN pg_namespace n ON n.oid = pn.pnnspid
 WHERE pn.pnnspid IN (SELECT nsp FROM spaces) OR n.nspname = $2
UNION ALL
SELECT p.pubname, CASE WHEN n.nspname = $2 THEN 'state' ELSE 'table' END, n.nspname
  FROM pg_publication p JOIN pg_publication_rel pr ON pr.prpubid = p.oid JOIN pg_class c ON c.oid = pr.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE (pr.prrelid IN (SELECT relid FROM tree) AND pr.prattrs IS NULL) OR n.nspname = $2
ORDER BY 1`;

/** The publications that would send Tandem's state tables: FOR ALL TABLES, or ones naming the state schema or its tables. */
const STATE_PUBLICATIONS_SQL = `
SELECT p.pubname AS publication, 'all_tables' AS how, NULL AS schema FROM pg_publication p WHERE p.puballtables
UNION ALL
SELECT p.pubname, 'state', n.nspname
  FROM pg_publication p JOIN pg_publication_namespace pn ON pn.pnpubid = p.oid JOIN pg_namespace n ON n.oid = pn.pnnspid
 WHERE n.nspname = $1
UNION ALL
SELECT p.pubname, 'state', n.nspname
  FROM pg_publication p JOIN pg_publication_rel pr ON pr.prpubid = p.oid JOIN pg_class c ON c.oid = pr.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = $1
ORDER BY 1`;

const SUBSCRIPTIONS_SQL = `
SELECT DISTINCT s.subname AS subscription
  FROM pg_subscription_rel sr JOIN pg_subscription s ON s.oid = sr.srsubid
 WHERE sr.srrelid IN (SELECT $1::oid UNION SELECT relid FROM pg_partition_tree($1::oid::regclass))
 ORDER BY 1`;

function publicationAdvice(f: Finding, label: string, added: string, sqlTable: string): string {
  switch (f.how) {
    case 'all_tables':
      return (
        `publication ${f.publication} is FOR ALL TABLES: it would send its subscribers ${added ? `the columns expand adds to ${label} (${added}) and ` : ''}Tandem's state tables (${STATE_SCHEMA}.migrations), which they lack, and their replication would stop; ` +
        `replace it with a publication FOR TABLE that lists the tables, with a column list for ${label}, and refresh the subscriptions (ALTER SUBSCRIPTION ... REFRESH PUBLICATION)`
      );
    case 'state':
      return `publication ${f.publication} publishes Tandem's state schema ${STATE_SCHEMA}, which no subscriber has; drop the state schema from it`;
    case 'schema':
      return (
        `publication ${f.publication} publishes every column of the tables in schema ${f.schema} (FOR TABLES IN SCHEMA, which takes no column list), so its subscribers would receive the columns expand adds to ${label} (${added}) and their replication would stop; ` +
        `publish ${label} from a publication FOR TABLE ${sqlTable} (its current columns) instead`
      );
    default:
      return (
        `publication ${f.publication} publishes every column of ${label}, so its subscribers would receive the columns expand adds (${added}), which their tables lack, and their replication would stop; ` +
        `give it a column list of the current columns (ALTER PUBLICATION ${quoteIdent(f.publication)} SET TABLE ${sqlTable} (col, ...)), then add new columns to each subscriber's table before adding them to the list`
      );
  }
}

/** Refuse before expand when a publication or a subscription would be broken by it. */
export async function checkReplication(client: Client, resolved: ResolvedSpec, label: string): Promise<void> {
  // Without column operations nothing is added to the table's rows, and a subscription's writes need
  // no sync; but every expand records its state in Tandem's state tables, which a publication FOR ALL
  // TABLES or one of the state schema would send to subscribers that lack them.
  const columns = syncsColumns(resolved);
  const pubs = columns
    ? (await client.query<Finding>(PUBLICATIONS_SQL, [resolved.table.oid, STATE_SCHEMA])).rows
    : (await client.query<Finding>(STATE_PUBLICATIONS_SQL, [STATE_SCHEMA])).rows;
  const subs = columns
    ? (await client.query<{ subscription: string }>(SUBSCRIPTIONS_SQL, [resolved.table.oid])).rows.map(
        (r) => r.subscription,
      )
    : [];
  if (!pubs.length && !subs.length) return;
  const added = columns
    ? [
        ...resolved.mappings.flatMap((m) => m.newColumns.map((c) => c.name)),
        PENDING_COLUMN,
        MARK_COLUMN,
        FAILED_COLUMN,
      ].join(', ')
    : '';
  const reasons = [
    ...new Map(
      pubs.map((f) => [
        `${f.publication}/${f.how}`,
        publicationAdvice(f, label, added, quoteQualified(resolved.table.schema, resolved.table.name)),
      ]),
    ).values(),
  ];
  if (subs.length) {
    reasons.push(
      `${label} is a target of subscription ${subs.join(', ')}: the rows its apply worker writes do not fire the sync trigger, so they would never be synced, and the columns contract drops would stop it; ` +
        `migrate the table on the publisher, or stop replicating it here (ALTER SUBSCRIPTION ... SET PUBLICATION / REFRESH) first`,
    );
  }
  throw new ReplicationError(
    label,
    [...new Set(pubs.map((p) => p.publication))],
    subs,
    `expand of ${label} refused: logical replication would break: ${reasons.join('; and ')}; then run the step again`,
  );
}
