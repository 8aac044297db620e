/**
 * The query side (docs/query.md): the columnar index in S3 (Parquet per log
 * and day, ANCHORLOG_INDEX_BUCKET) is the one query index. The project job
 * writes it after each seal, the compact job merges small files, the query
 * function answers filters and read-only SQL from it, and the reindex
 * function rebuilds a log's index from the archive. Only the query function
 * signs cursors, so only it reads the cursor key (src/config.ts
 * `loadCursorKey`); only project, compact and reindex write the bucket
 * (cdk/constructs/query-index.ts grants exactly that).
 *
 * The DynamoDB query items and GSIs of earlier versions are gone (issue #17):
 * migrate by rebuilding each log's index (`anchorlog index rebuild --log L`,
 * docs/operations.md §Query index migration).
 */
import { DynamoSealStateStore } from '../adapters/aws/dynamo-seal-state-store.ts';
import { S3ArchiveStore } from '../adapters/aws/s3-archive-store.ts';
import { S3ColumnarIndex } from '../adapters/aws/s3-columnar-index.ts';
import { ColumnarIndexer, type CompactOutcome, type IndexManyResult } from '../app/columnar-indexer.ts';
import { ColumnarQueryService } from '../app/columnar-query.ts';
import { AppError } from '../app/errors.ts';
import { type SecurityLakeManyResult, SecurityLakeWriter } from '../app/security-lake-writer.ts';
import { ConfigError, loadCursorKey } from '../config.ts';
import { Catalog } from '../core/catalog.ts';
import type { Route } from '../http/router.ts';
import { queryRoutes } from '../http/routes/query.ts';
import { indexRebuildRoutes, sqlRoutes } from '../http/routes/sql.ts';
import type { ScheduledJob } from '../jobs/scheduled-job.ts';
import { createSecretSource } from './aws.ts';
import type { Services } from './services.ts';
import { STARTER_CATALOG_DOCUMENTS } from './starter-catalog.ts';

type QueryServices = Pick<Services, 'config' | 'clients' | 'clock' | 'logStore'>;

/** The index bucket; the query, project, compact and reindex functions do not start without it. */
function indexBucket({ config }: QueryServices): string {
  if (!config.indexBucket)
    throw new ConfigError(
      'missing required environment variable ANCHORLOG_INDEX_BUCKET (the columnar query index, docs/query.md §7)',
      'MISSING_SETTING',
    );
  return config.indexBucket;
}

/** The columnar index's indexer (project, compact, rebuild). */
export function createColumnarIndexer(services: QueryServices): ColumnarIndexer {
  const { config, clients, clock } = services;
  return new ColumnarIndexer({
    archive: new S3ArchiveStore({ client: clients.s3, bucket: config.archiveBucket }),
    sealState: new DynamoSealStateStore({ client: clients.ddb, tableName: config.tableName }),
    index: new S3ColumnarIndex({ client: clients.s3, bucket: indexBucket(services) }),
    clock,
  });
}

/**
 * The Security Lake writer, when ANCHORLOG_SECURITY_LAKE_BUCKET is set
 * (docs/ocsf.md §Security Lake): OCSF classes from the starter catalog (the
 * catalog that ships in the bundle; actions it does not know take the
 * default mapping).
 */
export function createSecurityLakeWriter(services: QueryServices): SecurityLakeWriter | undefined {
  const { config, clients, clock } = services;
  const lake = config.securityLake;
  if (!lake) return undefined;
  return new SecurityLakeWriter({
    archive: new S3ArchiveStore({ client: clients.s3, bucket: config.archiveBucket }),
    sealState: new DynamoSealStateStore({ client: clients.ddb, tableName: config.tableName }),
    lake: new S3ColumnarIndex({ client: clients.s3, bucket: lake.bucket }),
    state: new S3ColumnarIndex({ client: clients.s3, bucket: lake.stateBucket }),
    target: { region: lake.region, accountId: lake.accountId },
    sourcePrefix: lake.sourcePrefix,
    catalog: Catalog.fromDocuments(STARTER_CATALOG_DOCUMENTS),
    clock,
  });
}

/**
 * The query function's routes (scope events:read): `GET …/events` and
 * `POST …/sql`, both answered from the columnar index, which this function
 * only reads. Reads the cursor key secret (ANCHORLOG_QUERY_CURSOR_KEY_SECRET)
 * once: without it, or without the index bucket, the function does not start.
 */
export async function queryApi(services: QueryServices & Pick<Services, 'principals'>): Promise<Route[]> {
  const bucket = indexBucket(services);
  const cursorKey = await loadCursorKey(services.config, createSecretSource(services.config));
  const { clients, clock, logStore } = services;
  const columnar = new ColumnarQueryService({
    index: new S3ColumnarIndex({ client: clients.s3, bucket }),
    indexer: createColumnarIndexer(services),
    logs: logStore,
    clock,
    cursorKey,
  });
  return [
    ...queryRoutes({ query: columnar, principals: services.principals }),
    ...sqlRoutes({ columnar, principals: services.principals }),
  ];
}

/** The reindex function's route: `POST …/index/rebuild` (scope admin), the one API route that writes the index. */
export function reindexApi(services: QueryServices & Pick<Services, 'principals'>): Route[] {
  return indexRebuildRoutes({
    indexer: createColumnarIndexer(services),
    principals: services.principals,
    clock: services.clock,
  });
}

/** A log's projection into the columnar index, or (`securityLake: true`) its copy into Security Lake. */
export type ProjectJobOutcome =
  | IndexManyResult[number]
  | (SecurityLakeManyResult[number] & { securityLake: true });
export interface ProjectJobSummary {
  logs: number;
  records: number;
}

/** Stop starting projection runs this long before the Lambda timeout (at most a third of it). */
const PROJECT_SAFETY_MS = 15_000;

/** The projector job: newly sealed records of every log into the columnar index, until the deadline. */
export function projectJob(services: QueryServices): ScheduledJob<ProjectJobOutcome, ProjectJobSummary> {
  const indexer = createColumnarIndexer(services);
  const lake = createSecurityLakeWriter(services);
  return {
    name: 'project',
    clock: services.clock,
    safetyMs: PROJECT_SAFETY_MS,
    listLogs: () => services.logStore.listLogs(),
    run: async (logIds, deadlineMs) => {
      const out: ProjectJobOutcome[] = await indexer.projectMany(logIds, deadlineMs);
      // After the index: Security Lake is a copy for others, the index is ours.
      if (lake) {
        const written = await lake.runMany(logIds, deadlineMs);
        out.push(...written.map((o) => ({ ...o, securityLake: true as const })));
      }
      return out;
    },
    notable: (o) => o.ok && o.records > 0,
    summarize: (outcomes) => ({
      logs: outcomes.length,
      records: outcomes.reduce((n, o) => n + (o.ok && !('securityLake' in o) ? o.records : 0), 0),
    }),
  };
}

export type CompactJobOutcome =
  | ({ ok: true; logId: string } & CompactOutcome)
  | { ok: false; logId: string; code: string; message: string };

/**
 * The compaction job (hourly): merges each log's closed days that still have
 * more than one file, and open days that reached the file threshold
 * (ColumnarIndexer.compact). The project job already compacts a log after
 * new records; this catches a log that went quiet and files a crash left
 * covered but not deleted. One LIST per log when there is nothing to do.
 */
export function compactJob(services: QueryServices): ScheduledJob<CompactJobOutcome, ProjectJobSummary> {
  const indexer = createColumnarIndexer(services);
  return {
    name: 'compact',
    clock: services.clock,
    safetyMs: PROJECT_SAFETY_MS,
    listLogs: () => services.logStore.listLogs(),
    run: async (logIds, deadlineMs) => {
      const out: CompactJobOutcome[] = [];
      for (const logId of logIds) {
        if (services.clock.now() >= deadlineMs) break;
        try {
          out.push({ ok: true, ...(await indexer.compact(logId)) });
        } catch (err) {
          // ColumnarIndexer.compact rejects with an AppError (UNAVAILABLE, INTEGRITY, …) only.
          const e = err instanceof AppError ? err : new AppError('UNAVAILABLE', String(err), { cause: err });
          out.push({ ok: false, logId, code: e.code, message: e.message });
        }
      }
      return out;
    },
    notable: (o) => o.ok && o.days > 0,
    summarize: (outcomes) => ({ logs: outcomes.length, records: 0 }),
  };
}
