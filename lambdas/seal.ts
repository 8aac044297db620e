// Seal λ, invoked by EventBridge Scheduler: seal every known log (or the
// `logIds` given in the schedule's input) until the invocation's time is
// nearly spent. Wiring at module scope: one config read, one set of SDK
// clients and one KMS public-key fetch per container.
import type { Context } from 'aws-lambda';
import { DynamoLogStore } from '../src/adapters/aws/dynamo-log-store.ts';
import { DynamoSealStateStore } from '../src/adapters/aws/dynamo-seal-state-store.ts';
import { KmsNoteSigner } from '../src/adapters/aws/kms-signer.ts';
import { S3ArchiveStore } from '../src/adapters/aws/s3-archive-store.ts';
import { EmfMetricsSink } from '../src/adapters/metrics/emf-metrics.ts';
import { SealService } from '../src/app/seal.ts';
import { createAwsClients, loadRetiredPublicKeys } from '../src/compose.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import { isValidLogId } from '../src/core/record.ts';
import { systemClock } from '../src/ports/clock.ts';

/**
 * Stop starting seal runs this long before the Lambda timeout (at most a third
 * of the invocation): one run is bounded by maxRecordsPerRun and must fit.
 */
const SAFETY_MS = 20_000;

const config = loadConfig();
const { signingKeyId } = config;
if (!signingKeyId) throw new ConfigError('missing required environment variable ANCHORLOG_SIGNING_KEY_ID');
const clients = createAwsClients(config);
const logStore = new DynamoLogStore({ client: clients.ddb, tableName: config.tableName });
const sealState = new DynamoSealStateStore({ client: clients.ddb, tableName: config.tableName });
const metrics = new EmfMetricsSink({ write: (line) => process.stdout.write(line) });
let service: Promise<SealService> | undefined;

function sealService(): Promise<SealService> {
  // The signing key, and the retired keys whose archived checkpoints it accepts (GetPublicKey only).
  service ??= Promise.all([
    KmsNoteSigner.create({ client: clients.kms, kmsKeyId: signingKeyId as string, keyName: 'anchorlog' }),
    loadRetiredPublicKeys(config, clients.kms),
  ])
    .then(
      ([signer, retiredPublicKeys]) =>
        new SealService({
          logs: logStore,
          state: sealState,
          archive: new S3ArchiveStore({ client: clients.s3, bucket: config.archiveBucket }),
          signer,
          retiredPublicKeys,
          clock: systemClock,
          originPrefix: config.originPrefix,
        }),
    )
    .catch((err: unknown) => {
      service = undefined; // a transient KMS failure must not poison the container
      throw err;
    });
  return service;
}

/** The schedule's input may name logs: `{ "logIds": ["a", "b"] }`; anything else means all logs. */
function requestedLogs(event: unknown): string[] | undefined {
  const ids = (event as { logIds?: unknown } | null)?.logIds;
  if (!Array.isArray(ids)) return undefined;
  return ids.filter(isValidLogId);
}

/**
 * SealLagSeconds per log: the age of the oldest record not yet covered by a
 * checkpoint (0 when everything is sealed). Two consistent reads per log.
 * The SealLag alarm watches its maximum across logs.
 */
async function emitSealLag(logIds: string[]): Promise<void> {
  const now = systemClock.now();
  for (const logId of logIds) {
    const state = await sealState.read(logId);
    const next = await logStore.readBatchHeader(logId, (state?.seq ?? 0) + 1);
    const lagMs = next ? Math.max(0, now - Date.parse(next.receivedAt)) : 0;
    metrics.emit({
      dimensions: { LogId: logId },
      metrics: [{ name: 'SealLagSeconds', value: Math.round(lagMs / 1000), unit: 'None' }],
      timestampMs: now,
    });
  }
}

export const handler = async (event: unknown, context: Pick<Context, 'getRemainingTimeInMillis'>) => {
  const seal = await sealService();
  const logIds = requestedLogs(event) ?? (await logStore.listLogs());
  const remaining = context.getRemainingTimeInMillis();
  const deadline = systemClock.now() + remaining - Math.min(SAFETY_MS, remaining / 3);
  const out = await seal.sealMany(logIds, deadline);
  for (const r of out.results) {
    const level = r.ok ? 'INFO' : r.code === 'INTEGRITY' ? 'ERROR' : 'WARN';
    if (!r.ok || r.status !== 'idle') console.log(JSON.stringify({ level, message: 'seal', ...r }));
  }
  if (out.integrityFailures.length > 0) {
    // Metric filter → alarm → operator. Sealing of these logs stays halted.
    console.error(JSON.stringify({ level: 'ERROR', alarm: 'SEAL_INTEGRITY', logIds: out.integrityFailures }));
  }
  await emitSealLag(logIds).catch((err: unknown) =>
    console.error(JSON.stringify({ level: 'WARN', message: 'seal lag metric failed', err: String(err) })),
  );
  const failed = out.results.filter((r) => !r.ok).length;
  // A failed invocation shows in the Errors metric; the next schedule retries.
  if (failed > 0) throw new Error(`seal failed for ${failed} of ${out.results.length} logs`);
  return {
    logs: out.results.length,
    sealed: out.results.filter((r) => r.ok && r.status === 'sealed').length,
  };
};
