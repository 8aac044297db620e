/**
 * The query side (docs/query.md): the projector job indexes new records, the
 * query function reads the indexes. Both take the hot window from the same
 * setting (`config.queryHotWindowMs`, ANCHORLOG_QUERY_HOT_DAYS), so they
 * cannot disagree within one deployment. Only the query function signs
 * cursors, so only it reads the cursor key (src/config.ts `loadCursorKey`).
 */
import { DynamoQueryIndex } from '../adapters/aws/dynamo-query-index.ts';
import { DynamoSealStateStore } from '../adapters/aws/dynamo-seal-state-store.ts';
import { S3ArchiveStore } from '../adapters/aws/s3-archive-store.ts';
import { S3ColumnarIndex } from '../adapters/aws/s3-columnar-index.ts';
import { ColumnarIndexer, type IndexManyResult } from '../app/columnar-indexer.ts';
import { ColumnarQueryService } from '../app/columnar-query.ts';
import { QueryService } from '../app/query.ts';
import { type ProjectManyResult, QueryProjector } from '../app/query-projector.ts';
import { type SecurityLakeManyResult, SecurityLakeWriter } from '../app/security-lake-writer.ts';
import { loadCursorKey } from '../config.ts';
import { Catalog } from '../core/catalog.ts';
import type { Route } from '../http/router.ts';
import { queryRoutes } from '../http/routes/query.ts';
import { sqlRoutes } from '../http/routes/sql.ts';
import type { ScheduledJob } from '../jobs/scheduled-job.ts';
import type { QueryIndexStore } from '../ports/query-index.ts';
import { createSecretSource } from './aws.ts';
import type { Services } from './services.ts';
import { STARTER_CATALOG_DOCUMENTS } from './starter-catalog.ts';

type QueryServices = Pick<Services, 'config' | 'clients' | 'clock' | 'logStore'>;

function queryIndex({ config, clients }: QueryServices): QueryIndexStore {
  return new DynamoQueryIndex({ client: clients.ddb, tableName: config.tableName });
}

/** The columnar index's indexer, when ANCHORLOG_INDEX_BUCKET is set (docs/query.md §7). */
export function createColumnarIndexer(services: QueryServices): ColumnarIndexer | undefined {
  const { config, clients, clock } = services;
  if (!config.indexBucket) return undefined;
  return new ColumnarIndexer({
    archive: new S3ArchiveStore({ client: clients.s3, bucket: config.archiveBucket }),
    sealState: new DynamoSealStateStore({ client: clients.ddb, tableName: config.tableName }),
    index: new S3ColumnarIndex({ client: clients.s3, bucket: config.indexBucket }),
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

const hotWindow = ({ config }: QueryServices) =>
  config.queryHotWindowMs !== undefined ? { hotWindowMs: config.queryHotWindowMs } : {};

export function createProjector(services: QueryServices): QueryProjector {
  return new QueryProjector({
    logs: services.logStore,
    index: queryIndex(services),
    clock: services.clock,
    ...hotWindow(services),
  });
}

export function createQueryService(services: QueryServices, opts: { cursorKey: Uint8Array }): QueryService {
  const { config, clients, clock, logStore } = services;
  return new QueryService({
    logs: logStore,
    index: queryIndex(services),
    archive: new S3ArchiveStore({ client: clients.s3, bucket: config.archiveBucket }),
    sealState: new DynamoSealStateStore({ client: clients.ddb, tableName: config.tableName }),
    clock,
    cursorKey: opts.cursorKey,
    ...hotWindow(services),
  });
}

/**
 * The query function's routes (scope events:read). Reads the cursor key
 * secret (ANCHORLOG_QUERY_CURSOR_KEY_SECRET) once: without it the function
 * does not start. With ANCHORLOG_INDEX_BUCKET set, `GET …/events` is answered
 * from the columnar index and the SQL and rebuild routes are mounted; the
 * DynamoDB index stays in place (and its projector keeps running) until the
 * columnar path has been measured (docs/query.md §7).
 */
export async function queryApi(services: QueryServices & Pick<Services, 'principals'>): Promise<Route[]> {
  const cursorKey = await loadCursorKey(services.config, createSecretSource(services.config));
  const indexer = createColumnarIndexer(services);
  if (!indexer)
    return queryRoutes({
      query: createQueryService(services, { cursorKey }),
      principals: services.principals,
    });
  const { config, clients, clock, logStore } = services;
  const columnar = new ColumnarQueryService({
    index: new S3ColumnarIndex({ client: clients.s3, bucket: config.indexBucket as string }),
    indexer,
    logs: logStore,
    clock,
    cursorKey,
  });
  return [
    ...queryRoutes({ query: columnar, principals: services.principals }),
    ...sqlRoutes({ columnar, indexer, principals: services.principals, clock }),
  ];
}

/** A log's projection into the DynamoDB index, or (`columnar: true`) into the columnar index. */
export type ProjectJobOutcome =
  | ProjectManyResult[number]
  | (IndexManyResult[number] & { columnar: true })
  | (SecurityLakeManyResult[number] & { securityLake: true });
export interface ProjectJobSummary {
  logs: number;
  records: number;
}

/** Stop starting projection runs this long before the Lambda timeout (at most a third of it). */
const PROJECT_SAFETY_MS = 15_000;

/** The projector job: new batches of every log into the query indexes, until the deadline. */
export function projectJob(services: QueryServices): ScheduledJob<ProjectJobOutcome, ProjectJobSummary> {
  const projector = createProjector(services);
  const indexer = createColumnarIndexer(services);
  const lake = createSecurityLakeWriter(services);
  return {
    name: 'project',
    clock: services.clock,
    safetyMs: PROJECT_SAFETY_MS,
    listLogs: () => services.logStore.listLogs(),
    run: async (logIds, deadlineMs) => {
      const out: ProjectJobOutcome[] = await projector.projectMany(logIds, deadlineMs);
      if (indexer) {
        const columnar = await indexer.projectMany(logIds, deadlineMs);
        out.push(...columnar.map((o) => ({ ...o, columnar: true as const })));
      }
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
      records: outcomes.reduce(
        (n, o) => n + (o.ok && !('columnar' in o) && !('securityLake' in o) ? o.records : 0),
        0,
      ),
    }),
  };
}
