/**
 * The embedded DuckDB the columnar index runs on (docs/query.md §7): writes
 * rows as Parquet, merges a day's files, and opens a read-only view over
 * files fetched from the index store. Every call gets its own in-memory
 * database in a private temporary directory, removed afterwards, so nothing
 * is shared between requests or logs.
 *
 * DuckDB reads Parquet from files only (no buffers without an extension), so
 * objects are written to that directory first; in Lambda it is under /tmp.
 * Nothing here downloads anything: extension auto-install and auto-load are
 * off for every database.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { IndexRow } from '../core/columnar.ts';

type DuckDB = typeof import('@duckdb/node-api');
let loaded: Promise<DuckDB> | undefined;

/**
 * DuckDB, loaded on first use. Only deployments with the columnar index run
 * it; the Lambda bundles leave the package external (cdk/constructs/
 * service-function.ts: its native binary cannot be bundled), so a function
 * without the index never loads it.
 */
export function duckdb(): Promise<DuckDB> {
  loaded ??= import('@duckdb/node-api');
  return loaded;
}

/** Column types of the files (and the `events` view). */
const SCHEMA = `
  log VARCHAR NOT NULL, day VARCHAR NOT NULL, leafIndex BIGINT NOT NULL,
  receivedAt TIMESTAMP NOT NULL, occurredAt VARCHAR NOT NULL,
  actorType VARCHAR NOT NULL, actorId VARCHAR NOT NULL, action VARCHAR NOT NULL,
  targetType VARCHAR, targetId VARCHAR, outcome VARCHAR NOT NULL, submitter VARCHAR NOT NULL,
  event JSON NOT NULL, leafHash VARCHAR NOT NULL`;

/** Fixed writer settings: the same rows always give the same bytes (rebuild == incremental). */
const PARQUET_OPTIONS = '(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)';

const BASE_OPTIONS = {
  threads: '1',
  autoinstall_known_extensions: 'false',
  autoload_known_extensions: 'false',
} as const;

/** A path as a SQL string literal (the paths are ours, from mkdtemp; quoted anyway). */
const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;

async function withDatabase<T>(
  options: Record<string, string>,
  fn: (conn: DuckDBConnection, dir: string) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'anchorlog-duckdb-'));
  const { DuckDBInstance } = await duckdb();
  const instance = await DuckDBInstance.create(':memory:', { ...BASE_OPTIONS, ...options });
  const conn = await instance.connect();
  try {
    return await fn(conn, dir);
  } finally {
    conn.closeSync();
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Rows (in leafIndex order) as one Parquet file. */
export async function writeParquet(rows: readonly IndexRow[]): Promise<Uint8Array> {
  return withDatabase({}, async (conn, dir) => {
    // receivedAt goes in as text and is cast once, in SQL: the record's text is the authority.
    await conn.run(`CREATE TABLE r (${SCHEMA.replace('receivedAt TIMESTAMP', 'receivedAt VARCHAR')})`);
    const app = await conn.createAppender('r');
    for (const r of rows) {
      app.appendVarchar(r.log);
      app.appendVarchar(r.day);
      app.appendBigInt(BigInt(r.leafIndex));
      app.appendVarchar(r.receivedAt);
      app.appendVarchar(r.occurredAt);
      app.appendVarchar(r.actorType);
      app.appendVarchar(r.actorId);
      app.appendVarchar(r.action);
      if (r.targetType === null) app.appendNull();
      else app.appendVarchar(r.targetType);
      if (r.targetId === null) app.appendNull();
      else app.appendVarchar(r.targetId);
      app.appendVarchar(r.outcome);
      app.appendVarchar(r.submitter);
      app.appendVarchar(r.event);
      app.appendVarchar(r.leafHash);
      app.endRow();
    }
    app.closeSync();
    const out = join(dir, 'out.parquet');
    await conn.run(
      `COPY (SELECT * REPLACE (receivedAt::TIMESTAMP AS receivedAt) FROM r ORDER BY leafIndex) TO ${lit(out)} ${PARQUET_OPTIONS}`,
    );
    return new Uint8Array(await readFile(out));
  });
}

/** Writes `files` into `dir` as 0.parquet, 1.parquet, …; returns their paths. */
async function spill(dir: string, files: readonly Uint8Array[]): Promise<string[]> {
  const paths = files.map((_, i) => join(dir, `${i}.parquet`));
  await Promise.all(files.map((b, i) => writeFile(paths[i] as string, b)));
  return paths;
}

/** The union of the files' rows, one row per leafIndex, in leafIndex order, as one file. */
export async function mergeParquet(files: readonly Uint8Array[]): Promise<Uint8Array> {
  return withDatabase({}, async (conn, dir) => {
    const paths = await spill(dir, files);
    const out = join(dir, 'merged.parquet');
    await conn.run(
      `COPY (SELECT DISTINCT ON (leafIndex) * FROM read_parquet([${paths.map(lit).join(', ')}]) ORDER BY leafIndex) TO ${lit(out)} ${PARQUET_OPTIONS}`,
    );
    return new Uint8Array(await readFile(out));
  });
}

/** Every row of the files (tests, rebuild checks): leafIndex order, one per leaf. */
export async function readRows(files: readonly Uint8Array[]): Promise<IndexRow[]> {
  return withView(files, true, {}, async (conn) => {
    const r = await conn.runAndReadAll(
      `SELECT * REPLACE (strftime(receivedAt, '%Y-%m-%dT%H:%M:%S.%gZ') AS receivedAt, event::VARCHAR AS event) FROM events ORDER BY leafIndex`,
    );
    return r.getRowObjectsJS().map((o) => ({ ...o, leafIndex: Number(o.leafIndex) }) as unknown as IndexRow);
  });
}

export interface ViewLimits {
  /** DuckDB memory_limit, e.g. '256MB'. */
  memoryLimit?: string;
}

/**
 * Opens a database with the view `events` over `files` and runs `fn` on it
 * with file and network access off: `enable_external_access=false` with
 * `allowed_paths` = exactly these files, then `lock_configuration=true`, so
 * SQL run by `fn` can read nothing else and change no setting. `dedupe`: the
 * files' ranges overlap (src/core/columnar.ts), keep one row per leafIndex.
 */
export async function withView<T>(
  files: readonly Uint8Array[],
  dedupe: boolean,
  limits: ViewLimits,
  fn: (conn: DuckDBConnection) => Promise<T>,
): Promise<T> {
  return withDatabase({}, async (conn, dir) => {
    const paths = await spill(dir, files);
    if (paths.length === 0) {
      await conn.run(`CREATE TABLE empty_events (${SCHEMA})`);
      await conn.run('CREATE VIEW events AS SELECT * FROM empty_events');
    } else {
      const source = `read_parquet([${paths.map(lit).join(', ')}])`;
      await conn.run(
        dedupe
          ? `CREATE VIEW events AS SELECT DISTINCT ON (leafIndex) * FROM ${source} ORDER BY leafIndex`
          : `CREATE VIEW events AS SELECT * FROM ${source}`,
      );
    }
    if (paths.length > 0) await conn.run(`SET allowed_paths=[${paths.map(lit).join(', ')}]`);
    await conn.run(`SET memory_limit=${lit(limits.memoryLimit ?? '256MB')}`);
    await conn.run(`SET temp_directory=''`);
    await conn.run('SET enable_external_access=false');
    await conn.run('SET lock_configuration=true');
    return fn(conn);
  });
}
