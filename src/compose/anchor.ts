/**
 * The anchor job (docs/anchoring.md): each log's archived checkpoint, once a
 * log key (or a retired one) verifies it, is time-stamped by the configured
 * RFC 3161 TSAs; tokens go to the archive, anchor records to the table.
 * Failures per TSA are EMF metrics (AnchorQuorumMissed, AnchorTsaFailure)
 * and health observations (src/app/health.ts), and the next run retries
 * every TSA that has not granted.
 */
import { DynamoAnchorStore } from '../adapters/aws/dynamo-anchor-store.ts';
import { DynamoHealthOutbox } from '../adapters/aws/dynamo-health-outbox.ts';
import { S3ArchiveStore } from '../adapters/aws/s3-archive-store.ts';
import { HttpTimestamper } from '../adapters/tsa/http-timestamper.ts';
import { type AnchorOutcome, AnchorService, type RetryPolicy } from '../app/anchor.ts';
import { anchorHealthEvents, putObservations } from '../app/health.ts';
import { loadTsaCredentials } from '../config.ts';
import { type EachLogOutcome, eachLog, type ScheduledJob } from '../jobs/scheduled-job.ts';
import type { MetricsSink } from '../ports/metrics.ts';
import { createSecretSource, loadLogPublicKeys } from './aws.ts';
import { emfMetrics } from './metrics.ts';
import type { Services } from './services.ts';

export type AnchorJobOutcome = EachLogOutcome<AnchorOutcome>;
export interface AnchorJobSummary {
  logs: number;
  /** Logs whose run ended `anchored` (a quorum of tokens, not all of them from earlier runs). */
  anchored: number;
  /** TSAs without a token for their log's newest checkpoint, summed over logs (retried next run). */
  failures: number;
}

export interface AnchorJobOptions {
  /** Default: EMF lines on stdout. */
  readonly metrics?: MetricsSink;
  /** Per TSA request (HttpTimestamper's default otherwise). */
  readonly timeoutMs?: number;
  readonly retry?: Partial<RetryPolicy>;
  readonly fetch?: typeof fetch;
}

/** Stop starting a log this long before the Lambda timeout: one log's TSA calls, with retries, must fit. */
const ANCHOR_SAFETY_MS = 30_000;

/**
 * The anchor job over every log. At cold start it reads the TSA credentials
 * secret (ANCHORLOG_TSA_CREDENTIALS_SECRET, if set; the environment never
 * holds them) and the log's public keys (GetPublicKey only).
 */
export async function anchorJob(
  services: Pick<Services, 'config' | 'clients' | 'clock' | 'random' | 'logStore'>,
  opts: AnchorJobOptions = {},
): Promise<ScheduledJob<AnchorJobOutcome, AnchorJobSummary>> {
  const { config, clients, clock, random, logStore } = services;
  const tsas = await loadTsaCredentials(config, createSecretSource(config));
  const anchor = new AnchorService({
    archive: new S3ArchiveStore({ client: clients.s3, bucket: config.archiveBucket }),
    originPrefix: config.originPrefix,
    logPublicKeys: await loadLogPublicKeys(config, clients.kms),
    anchors: new DynamoAnchorStore({ client: clients.ddb, tableName: config.tableName }),
    timestampers: tsas.map(
      (t) =>
        new HttpTimestamper({
          name: t.name,
          url: t.url,
          rootsPem: t.rootsPem,
          ...(t.authorization !== undefined ? { authorization: t.authorization } : {}),
          ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
          ...(opts.fetch ? { fetch: opts.fetch } : {}),
        }),
    ),
    quorum: config.anchorQuorum,
    clock,
    random,
    metrics: opts.metrics ?? emfMetrics(),
    ...(opts.retry ? { retry: opts.retry } : {}),
  });
  const healthOutbox = new DynamoHealthOutbox({ client: clients.ddb, tableName: config.tableName });
  return {
    name: 'anchor',
    clock,
    safetyMs: ANCHOR_SAFETY_MS,
    listLogs: () => logStore.listLogs(),
    run: (logIds, deadlineMs) => eachLog(logIds, deadlineMs, clock, (logId) => anchor.anchorLog(logId)),
    notable: (o) => o.ok && (o.tsaCalls > 0 || o.failures > 0),
    summarize: (outcomes) => ({
      logs: outcomes.length,
      anchored: outcomes.filter((o) => o.ok && o.status === 'anchored').length,
      failures: outcomes.reduce((n, o) => n + (o.ok ? o.failures : 0), 0),
    }),
    // Missed quorums and failing TSAs become health observations, recorded in the system log
    // by the deliver job (src/app/health.ts); the anchor role may put them, not append them.
    metrics: (_logIds, outcomes) => {
      const now = clock.now();
      return putObservations(
        healthOutbox,
        outcomes.flatMap((o) => (o.ok ? anchorHealthEvents(o, now) : [])),
      );
    },
  };
}
