/**
 * The anchor job (docs/anchoring.md): each log's archived checkpoint, once a
 * log key (or a retired one) verifies it, is time-stamped by the configured
 * RFC 3161 TSAs; tokens go to the archive, anchor records to the table.
 * Failures per TSA are EMF metrics (AnchorQuorumMissed, AnchorTsaFailure)
 * and health observations (src/app/health.ts), and the next run retries
 * every TSA that has not granted.
 *
 * Then, when witnesses are configured (ANCHORLOG_WITNESSES), the same
 * checkpoint is submitted to them (docs/witnessing.md, src/app/witness.ts):
 * cosignatures go to the archive next to the tokens, per-witness state to the
 * table (`W#<logId>`), failures are metrics (WitnessQuorumMissed,
 * WitnessFailure, WitnessInconsistent). Witnessing runs here, after the TSAs,
 * rather than in the sealer or a job of its own: this job already reads and
 * verifies the published checkpoint of every log on a schedule and owns the
 * pattern of calling remote parties with retries and health metrics; keeping
 * third-party HTTP out of the seal function keeps it away from the only role
 * that may sign, and a slow witness can never delay a seal. The cost is
 * latency: a checkpoint is cosigned within one anchor period (5 minutes).
 */
import { DynamoAnchorStore } from '../adapters/aws/dynamo-anchor-store.ts';
import { DynamoHealthOutbox } from '../adapters/aws/dynamo-health-outbox.ts';
import { DynamoWitnessStateStore } from '../adapters/aws/dynamo-witness-state.ts';
import { KmsNoteSigner } from '../adapters/aws/kms-signer.ts';
import { S3ArchiveStore } from '../adapters/aws/s3-archive-store.ts';
import { HttpRekor } from '../adapters/rekor/http-rekor.ts';
import { HttpTimestamper } from '../adapters/tsa/http-timestamper.ts';
import { HttpWitness } from '../adapters/witness/http-witness.ts';
import { type AnchorOutcome, AnchorService, type RetryPolicy } from '../app/anchor.ts';
import { anchorHealthEvents, putObservations } from '../app/health.ts';
import { ProofService } from '../app/proofs.ts';
import { type RekorOutcome, RekorService } from '../app/rekor.ts';
import { type WitnessOutcome, WitnessService } from '../app/witness.ts';
import { loadTsaCredentials } from '../config.ts';
import { fromBase64 } from '../core/bytes.ts';
import { type EachLogOutcome, eachLog, type ScheduledJob } from '../jobs/scheduled-job.ts';
import type { MetricsSink } from '../ports/metrics.ts';
import { createSecretSource, loadLogPublicKeys } from './aws.ts';
import { emfMetrics } from './metrics.ts';
import type { Services } from './services.ts';

/** The anchor outcome of a log, and its witnessing and Rekor outcomes when those are configured. */
export type AnchorJobOutcome = EachLogOutcome<
  AnchorOutcome & { readonly witness?: WitnessOutcome; readonly rekor?: RekorOutcome }
>;
export interface AnchorJobSummary {
  logs: number;
  /** Logs whose run ended `anchored` (a quorum of tokens, not all of them from earlier runs). */
  anchored: number;
  /** TSAs without a token for their log's newest checkpoint, summed over logs (retried next run). */
  failures: number;
  /** Witnesses without a cosignature of their log's newest checkpoint, summed over logs (retried next run). */
  witnessFailures: number;
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
  const archive = new S3ArchiveStore({ client: clients.s3, bucket: config.archiveBucket });
  const logPublicKeys = await loadLogPublicKeys(config, clients.kms);
  const metrics = opts.metrics ?? emfMetrics();
  const anchor = new AnchorService({
    archive,
    originPrefix: config.originPrefix,
    logPublicKeys,
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
    metrics,
    ...(opts.retry ? { retry: opts.retry } : {}),
  });
  const healthOutbox = new DynamoHealthOutbox({ client: clients.ddb, tableName: config.tableName });
  const witnessSettings = config.witnesses ?? [];
  // Consistency proofs from the archived tiles, as GET …/proof/consistency serves them.
  const proofs = new ProofService({
    archive,
    originPrefix: config.originPrefix,
    publicKeys: async () => logPublicKeys,
  });
  const witness =
    witnessSettings.length === 0
      ? undefined
      : new WitnessService({
          archive,
          originPrefix: config.originPrefix,
          logPublicKeys,
          witnesses: witnessSettings.map(
            (w) =>
              new HttpWitness({
                name: w.name,
                url: w.url,
                cosigner: w.cosigner,
                ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
                ...(opts.fetch ? { fetch: opts.fetch } : {}),
              }),
          ),
          quorum: config.witnessQuorum ?? Math.min(2, witnessSettings.length),
          state: new DynamoWitnessStateStore({ client: clients.ddb, tableName: config.tableName }),
          consistencyProof: async (logId, from, to) =>
            (await proofs.consistencyProof(logId, from, to)).hashes.map(fromBase64),
          clock,
          random,
          metrics,
        });
  // Rekor (docs/anchoring.md §Rekor): the anchor key is its own KMS key (GetPublicKey at cold
  // start, Sign per checkpoint), never the log signing key.
  const rekor =
    config.rekor === undefined
      ? undefined
      : new RekorService({
          archive,
          originPrefix: config.originPrefix,
          logPublicKeys,
          rekor: new HttpRekor({
            name: config.rekor.name,
            url: config.rekor.url,
            ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
            ...(opts.fetch ? { fetch: opts.fetch } : {}),
          }),
          rekorKeys: config.rekor.logKeys,
          anchorSigner: await KmsNoteSigner.create({
            client: clients.kms,
            kmsKeyId: config.rekor.anchorKeyId,
            keyName: `${config.originPrefix}/rekor-anchor`,
          }),
          anchors: new DynamoAnchorStore({ client: clients.ddb, tableName: config.tableName }),
          clock,
          random,
          metrics,
          ...(opts.retry ? { retry: opts.retry } : {}),
        });
  return {
    name: 'anchor',
    clock,
    safetyMs: ANCHOR_SAFETY_MS,
    listLogs: () => logStore.listLogs(),
    run: (logIds, deadlineMs) =>
      eachLog(logIds, deadlineMs, clock, async (logId) => {
        const anchored = await anchor.anchorLog(logId);
        return {
          ...anchored,
          ...(witness ? { witness: await witness.witnessLog(logId) } : {}),
          ...(rekor ? { rekor: await rekor.submitLog(logId) } : {}),
        };
      }),
    notable: (o) =>
      o.ok &&
      (o.tsaCalls > 0 ||
        o.failures > 0 ||
        (o.witness?.requests ?? 0) > 0 ||
        (o.witness?.failures ?? 0) > 0 ||
        (o.rekor?.attempts ?? 0) > 0),
    summarize: (outcomes) => ({
      logs: outcomes.length,
      anchored: outcomes.filter((o) => o.ok && o.status === 'anchored').length,
      failures: outcomes.reduce((n, o) => n + (o.ok ? o.failures : 0), 0),
      witnessFailures: outcomes.reduce((n, o) => n + (o.ok ? (o.witness?.failures ?? 0) : 0), 0),
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
