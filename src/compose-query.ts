/**
 * Composition of the query side (docs/query.md): the projector and the query
 * service over the clients built once by src/compose.ts. Both must be given
 * the same hot window. Only the query service signs cursors, so only it
 * needs the cursor key (src/config.ts `loadCursorKey`).
 */
import { DynamoQueryIndex } from './adapters/aws/dynamo-query-index.ts';
import { DynamoSealStateStore } from './adapters/aws/dynamo-seal-state-store.ts';
import { S3ArchiveStore } from './adapters/aws/s3-archive-store.ts';
import { QueryService } from './app/query.ts';
import { QueryProjector } from './app/query-projector.ts';
import type { Services } from './compose.ts';

type QueryServices = Pick<Services, 'config' | 'clients' | 'clock' | 'logStore'>;

function queryIndex({ config, clients }: QueryServices): DynamoQueryIndex {
  return new DynamoQueryIndex({ client: clients.ddb, tableName: config.tableName });
}

export function createProjector(
  services: QueryServices,
  opts: { hotWindowMs?: number } = {},
): QueryProjector {
  return new QueryProjector({
    logs: services.logStore,
    index: queryIndex(services),
    clock: services.clock,
    ...(opts.hotWindowMs !== undefined ? { hotWindowMs: opts.hotWindowMs } : {}),
  });
}

export function createQueryService(
  services: QueryServices,
  opts: { cursorKey: Uint8Array; hotWindowMs?: number },
): QueryService {
  const { config, clients, clock, logStore } = services;
  return new QueryService({
    logs: logStore,
    index: queryIndex(services),
    archive: new S3ArchiveStore({ client: clients.s3, bucket: config.archiveBucket }),
    sealState: new DynamoSealStateStore({ client: clients.ddb, tableName: config.tableName }),
    clock,
    cursorKey: opts.cursorKey,
    ...(opts.hotWindowMs !== undefined ? { hotWindowMs: opts.hotWindowMs } : {}),
  });
}
