/**
 * Composition of the query side (docs/query.md): the projector and the query
 * service over the clients built once by src/compose.ts. Both must be given
 * the same hot window.
 */
import { DynamoQueryIndex } from './adapters/aws/dynamo-query-index.ts';
import { DynamoSealStateStore } from './adapters/aws/dynamo-seal-state-store.ts';
import { S3ArchiveStore } from './adapters/aws/s3-archive-store.ts';
import { QueryService } from './app/query.ts';
import { QueryProjector } from './app/query-projector.ts';
import type { Services } from './compose.ts';

export interface Querying {
  query: QueryService;
  projector: QueryProjector;
}

export function createQuerying(
  services: Pick<Services, 'config' | 'clients' | 'clock' | 'logStore'>,
  opts: { hotWindowMs?: number; cursorKey?: Uint8Array } = {},
): Querying {
  const { config, clients, clock, logStore } = services;
  const index = new DynamoQueryIndex({ client: clients.ddb, tableName: config.tableName });
  const window = opts.hotWindowMs !== undefined ? { hotWindowMs: opts.hotWindowMs } : {};
  return {
    projector: new QueryProjector({ logs: logStore, index, clock, ...window }),
    query: new QueryService({
      logs: logStore,
      index,
      archive: new S3ArchiveStore({ client: clients.s3, bucket: config.archiveBucket }),
      sealState: new DynamoSealStateStore({ client: clients.ddb, tableName: config.tableName }),
      clock,
      ...window,
      ...(opts.cursorKey ? { cursorKey: opts.cursorKey } : {}),
    }),
  };
}
