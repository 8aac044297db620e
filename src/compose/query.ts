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
import { QueryService } from '../app/query.ts';
import { type ProjectManyResult, QueryProjector } from '../app/query-projector.ts';
import { loadCursorKey } from '../config.ts';
import type { Route } from '../http/router.ts';
import { queryRoutes } from '../http/routes/query.ts';
import type { ScheduledJob } from '../jobs/scheduled-job.ts';
import type { QueryIndexStore } from '../ports/query-index.ts';
import { createSecretSource } from './aws.ts';
import type { Services } from './services.ts';

type QueryServices = Pick<Services, 'config' | 'clients' | 'clock' | 'logStore'>;

function queryIndex({ config, clients }: QueryServices): QueryIndexStore {
  return new DynamoQueryIndex({ client: clients.ddb, tableName: config.tableName });
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
 * does not start.
 */
export async function queryApi(services: QueryServices & Pick<Services, 'principals'>): Promise<Route[]> {
  const cursorKey = await loadCursorKey(services.config, createSecretSource(services.config));
  return queryRoutes({ query: createQueryService(services, { cursorKey }), principals: services.principals });
}

export type ProjectJobOutcome = ProjectManyResult[number];
export interface ProjectJobSummary {
  logs: number;
  records: number;
}

/** Stop starting projection runs this long before the Lambda timeout (at most a third of it). */
const PROJECT_SAFETY_MS = 15_000;

/** The projector job: new batches of every log into the query indexes, until the deadline. */
export function projectJob(services: QueryServices): ScheduledJob<ProjectJobOutcome, ProjectJobSummary> {
  const projector = createProjector(services);
  return {
    name: 'project',
    clock: services.clock,
    safetyMs: PROJECT_SAFETY_MS,
    listLogs: () => services.logStore.listLogs(),
    run: (logIds, deadlineMs) => projector.projectMany(logIds, deadlineMs),
    notable: (o) => o.ok && o.records > 0,
    summarize: (outcomes) => ({
      logs: outcomes.length,
      records: outcomes.reduce((n, o) => n + (o.ok ? o.records : 0), 0),
    }),
  };
}
