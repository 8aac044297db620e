/**
 * The columnar index seen from Athena (docs/query.md §Athena): the Glue
 * table's columns and the SQL the CDK app saves in the Athena workgroup
 * (cdk/constructs/query-index.ts). The same text runs on DuckDB in
 * test/app/index-sql.test.ts over files the indexer wrote, so what an auditor
 * runs in Athena is what the tests ran: keep it to the SQL both engines
 * share (Trino and DuckDB): no engine-specific functions, timestamps as
 * `TIMESTAMP 'yyyy-mm-dd hh:mm:ss'` literals, `day` compared as text.
 *
 * Pure data: no imports beyond the column list.
 */
import { INDEX_COLUMNS } from './columnar.ts';

/** The Glue table over `index/log=<logId>/day=<yyyy-mm-dd>/*.parquet` (partition projection). */
export const GLUE_TABLE = 'events_parquet';

/** Partition keys, from the key layout (src/core/columnar.ts); Hive-style `name=value` segments. */
export const GLUE_PARTITION_KEYS = [
  { name: 'log', type: 'string' },
  { name: 'day', type: 'string' },
] as const;

/** Hive type of each column the files carry (duckdb-engine.ts SCHEMA), partition keys excepted. */
const HIVE_TYPES: Record<(typeof INDEX_COLUMNS)[number], string> = {
  log: 'string',
  day: 'string',
  leafIndex: 'bigint',
  receivedAt: 'timestamp',
  occurredAt: 'string',
  actorType: 'string',
  actorId: 'string',
  action: 'string',
  targetType: 'string',
  targetId: 'string',
  outcome: 'string',
  submitter: 'string',
  event: 'string',
  leafHash: 'string',
};

/**
 * The Glue table's data columns: every file column but the partition keys
 * (a column may not be both; the files' own `log`/`day` equal the path's).
 * Glue stores names in lower case; Athena matches Parquet columns by name,
 * case-insensitively.
 */
export const GLUE_COLUMNS: readonly { name: string; type: string }[] = INDEX_COLUMNS.filter(
  (c) => c !== 'log' && c !== 'day',
).map((c) => ({ name: c.toLowerCase(), type: HIVE_TYPES[c] }));

/**
 * The view `events`, as the query API's SQL sees it (same columns, same
 * names), over the Glue table. One row per leaf: between a compaction's
 * write and its deletes (or after a crash there) a leaf can be in two files,
 * which the API's reader skips by file range and this view by row_number.
 * The window partitions by (log, day, leafIndex) — a leaf is on one day only,
 * so that is one row per leaf — so a filter on `log` and `day` is pushed
 * through the window and still prunes partitions.
 */
export const EVENTS_VIEW_SQL = `CREATE OR REPLACE VIEW events AS
SELECT log, day, leafIndex, receivedAt, occurredAt, actorType, actorId, action,
       targetType, targetId, outcome, submitter, event, leafHash
FROM (
  SELECT t.*, row_number() OVER (PARTITION BY t.log, t.day, t.leafIndex ORDER BY t.leafIndex) AS rn
  FROM ${GLUE_TABLE} t
) d
WHERE d.rn = 1`;

/**
 * Saved queries (Athena named queries). `log` is an injected partition key:
 * Athena refuses a query on the table without `log = '<logId>'`, and `day`
 * bounds choose the partitions read (the workgroup's bytes-scanned cutoff
 * stops a query that would read more).
 */
export const SAMPLE_QUERIES = {
  privilegedAccessChanges: {
    title: 'privileged access changes between March 1 and June 30',
    sql: `SELECT leafIndex, receivedAt, actorId, action, targetId
FROM events
WHERE log = 'prod'
  AND day BETWEEN '2026-03-01' AND '2026-06-30'
  AND action LIKE 'access.%'
  AND receivedAt >= TIMESTAMP '2026-03-01 00:00:00' AND receivedAt < TIMESTAMP '2026-07-01 00:00:00'
ORDER BY leafIndex`,
  },
  actorOver30Days: {
    title: "an actor's events over 30 days",
    sql: `SELECT leafIndex, receivedAt, action, targetType, targetId, outcome
FROM events
WHERE log = 'prod'
  AND day BETWEEN '2026-03-01' AND '2026-03-30'
  AND actorId = 'alice'
  AND receivedAt >= TIMESTAMP '2026-03-01 00:00:00' AND receivedAt < TIMESTAMP '2026-03-31 00:00:00'
ORDER BY leafIndex`,
  },
  actionsPerDay: {
    title: 'events per action and day in March',
    sql: `SELECT day, action, count(*) AS events
FROM events
WHERE log = 'prod' AND day BETWEEN '2026-03-01' AND '2026-03-31'
GROUP BY day, action
ORDER BY day, action`,
  },
} as const;
