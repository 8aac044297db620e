/**
 * The seal job (docs/architecture.md): the only signer. It reads records,
 * writes tiles and checkpoints to the archive and signs with the KMS log key;
 * checkpoints signed by a retired key (ANCHORLOG_RETIRED_SIGNING_KEYS) still
 * verify.
 */

import { DynamoHealthOutbox } from '../adapters/aws/dynamo-health-outbox.ts';
import { DynamoSealStateStore } from '../adapters/aws/dynamo-seal-state-store.ts';
import { KmsNoteSigner } from '../adapters/aws/kms-signer.ts';
import { S3ArchiveStore } from '../adapters/aws/s3-archive-store.ts';
import { putClassDeclarations } from '../app/class-declarations.ts';
import { type SealManyResult, SealService } from '../app/seal.ts';
import { emitSealLag } from '../app/seal-lag.ts';
import type { ScheduledJob } from '../jobs/scheduled-job.ts';
import type { MetricsSink } from '../ports/metrics.ts';
import { loadRetiredPublicKeys, requireSigningKeyId } from './aws.ts';
import { emfMetrics } from './metrics.ts';
import type { Services } from './services.ts';

export type SealJobOutcome = SealManyResult['results'][number];
export interface SealJobSummary {
  logs: number;
  sealed: number;
}

/**
 * Stop starting seal runs this long before the Lambda timeout (at most a third
 * of the invocation): one run is bounded by maxRecordsPerRun and must fit.
 */
const SEAL_SAFETY_MS = 20_000;

/**
 * The seal job over every log. A missing ANCHORLOG_SIGNING_KEY_ID fails here,
 * at cold start; the key's public half (GetPublicKey) is fetched on the first
 * run and fetched again after a failure, so a transient KMS error does not
 * poison the container.
 */
export function sealJob(
  services: Pick<Services, 'config' | 'clients' | 'clock' | 'logStore'>,
  opts: { metrics?: MetricsSink } = {},
): ScheduledJob<SealJobOutcome, SealJobSummary> {
  const { config, clients, clock, logStore } = services;
  const kmsKeyId = requireSigningKeyId(config);
  const state = new DynamoSealStateStore({ client: clients.ddb, tableName: config.tableName });
  const metrics = opts.metrics ?? emfMetrics();
  const healthOutbox = new DynamoHealthOutbox({ client: clients.ddb, tableName: config.tableName });
  let service: Promise<SealService> | undefined;
  const sealService = (): Promise<SealService> => {
    service ??= Promise.all([
      // The note key name is each log's origin (SealService names it per log).
      KmsNoteSigner.create({ client: clients.kms, kmsKeyId, keyName: config.originPrefix }),
      loadRetiredPublicKeys(config, clients.kms),
    ])
      .then(
        ([signer, retiredPublicKeys]) =>
          new SealService({
            logs: logStore,
            state,
            archive: new S3ArchiveStore({ client: clients.s3, bucket: config.archiveBucket }),
            signer,
            retiredPublicKeys,
            clock,
            originPrefix: config.originPrefix,
            ...(config.classes !== undefined ? { classes: config.classes } : {}),
          }),
      )
      .catch((err: unknown) => {
        service = undefined;
        throw err;
      });
    return service;
  };
  return {
    name: 'seal',
    clock,
    safetyMs: SEAL_SAFETY_MS,
    listLogs: () => logStore.listLogs(),
    run: async (logIds, deadlineMs) => (await (await sealService()).sealMany(logIds, deadlineMs)).results,
    notable: (o) => o.ok && o.status !== 'idle',
    summarize: (outcomes) => ({
      logs: outcomes.length,
      sealed: outcomes.filter((o) => o.ok && o.status === 'sealed').length,
    }),
    // Seal lag and halts also become health observations, recorded in the system log by the
    // deliver job (src/app/health.ts); the seal role may put them, not append them.
    metrics: async (logIds, outcomes) => {
      // Both are attempted; the first failure is the job's WARN line. Class declarations and
      // retirements of this run go to the system log's trail too (docs/classes.md §Versions).
      const settled = await Promise.allSettled([
        putClassDeclarations(healthOutbox, outcomes, clock.now()),
        emitSealLag(
          {
            logs: logStore,
            state,
            metrics,
            clock,
            health: {
              outbox: healthOutbox,
              lagThresholdSeconds: config.healthSealLagSeconds,
            },
          },
          logIds,
        ),
      ]);
      for (const r of settled) if (r.status === 'rejected') throw r.reason;
    },
  };
}
