/**
 * Composition of the anchor job (DESIGN §3 "Anchor"): one HttpTimestamper per
 * configured TSA, the DynamoDB anchor store, the archive (whose published
 * checkpoint is what gets stamped), the log public keys, and the metrics
 * sink, over the clients built once by src/compose.ts.
 */
import { DynamoAnchorStore } from './adapters/aws/dynamo-anchor-store.ts';
import { S3ArchiveStore } from './adapters/aws/s3-archive-store.ts';
import { HttpTimestamper } from './adapters/tsa/http-timestamper.ts';
import { AnchorService, type RetryPolicy } from './app/anchor.ts';
import type { Services } from './compose.ts';
import type { MetricsSink } from './ports/metrics.ts';

export interface Anchoring {
  anchor: AnchorService;
  anchorStore: DynamoAnchorStore;
}

export function createAnchoring(
  services: Pick<Services, 'config' | 'clients' | 'clock'>,
  opts: {
    metrics: MetricsSink;
    /** From loadLogPublicKeys: the archived checkpoint must verify with one of them. */
    logPublicKeys: readonly Uint8Array[];
    timeoutMs?: number;
    retry?: Partial<RetryPolicy>;
    fetch?: typeof fetch;
  },
): Anchoring {
  const { config, clients, clock } = services;
  const anchorStore = new DynamoAnchorStore({ client: clients.ddb, tableName: config.tableName });
  const timestampers = config.tsas.map(
    (t) =>
      new HttpTimestamper({
        name: t.name,
        url: t.url,
        rootsPem: t.rootsPem,
        ...(t.authorization !== undefined ? { authorization: t.authorization } : {}),
        ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
        ...(opts.fetch ? { fetch: opts.fetch } : {}),
      }),
  );
  const anchor = new AnchorService({
    archive: new S3ArchiveStore({ client: clients.s3, bucket: config.archiveBucket }),
    originPrefix: config.originPrefix,
    logPublicKeys: opts.logPublicKeys,
    anchors: anchorStore,
    timestampers,
    quorum: config.anchorQuorum,
    clock,
    random: (n) => crypto.getRandomValues(new Uint8Array(n)),
    metrics: opts.metrics,
    ...(opts.retry ? { retry: opts.retry } : {}),
  });
  return { anchor, anchorStore };
}
