/**
 * Health events end to end on moto, through the jobs as deployed
 * (src/compose): the seal job observes a halted log and its stuck batch, the
 * anchor job a run without quorum and each failing TSA; the deliver job
 * records every observation in the `system` log as `system:health`, once —
 * the next runs observe the same occurrences again and record nothing new.
 */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoHealthOutbox } from '../../src/adapters/aws/dynamo-health-outbox.ts';
import { DynamoLogStore } from '../../src/adapters/aws/dynamo-log-store.ts';
import { DynamoSealStateStore } from '../../src/adapters/aws/dynamo-seal-state-store.ts';
import { createArchiveBucket } from '../../src/adapters/aws/s3-archive-store.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { ManualClock } from '../../src/adapters/memory/clock.ts';
import { MemoryMetricsSink } from '../../src/adapters/memory/metrics.ts';
import { createPki } from '../../src/adapters/memory/tsa-pki.ts';
import { IngestService } from '../../src/app/ingest.ts';
import { LogRegistry } from '../../src/app/log-registry.ts';
import { anchorJob } from '../../src/compose/anchor.ts';
import { createDeliveryService, deliverJob } from '../../src/compose/deliver.ts';
import { sealJob } from '../../src/compose/seal.ts';
import { createServices } from '../../src/compose/services.ts';
import { loadConfig } from '../../src/config.ts';
import { toBase64, utf8 } from '../../src/core/bytes.ts';
import { SYSTEM_LOG_ID } from '../../src/core/principal.ts';
import { decodeRecord, type LogRecord } from '../../src/core/record.ts';
import { type JobLogLine, scheduledJob } from '../../src/jobs/scheduled-job.ts';
import { awsClientConfig, motoEndpoint } from '../support/aws.ts';

const TABLE = 'anchorlog-health-jobs';
const BUCKET = 'anchorlog-archive-health-jobs';
const context = { getRemainingTimeInMillis: () => 120_000 };
const ddb = new DynamoDBClient(awsClientConfig());
const logs = new DynamoLogStore({ client: ddb, tableName: TABLE });
let env: Record<string, string>;

/** A TSA that refuses every request (HTTP 503), at a URL nobody serves. */
const refusingFetch: typeof fetch = async () => new Response('busy', { status: 503 });

beforeAll(async () => {
  await ensureTable(ddb, TABLE);
  await createArchiveBucket(new S3Client(awsClientConfig()), BUCKET, 1);
  const key = await new KMSClient(awsClientConfig()).send(
    new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }),
  );
  const pki = await createPki();
  const rootsPem = `-----BEGIN CERTIFICATE-----\n${toBase64(pki.root.der)}\n-----END CERTIFICATE-----\n`;
  env = {
    ANCHORLOG_TABLE: TABLE,
    ANCHORLOG_ARCHIVE_BUCKET: BUCKET,
    ANCHORLOG_SIGNING_KEY_ID: key.KeyMetadata?.KeyId ?? '',
    ANCHORLOG_AWS_ENDPOINT: motoEndpoint(),
    AWS_REGION: 'us-east-1',
    ANCHORLOG_TSAS: JSON.stringify([
      { name: 'tsa-one', url: 'http://tsa-one.invalid/', rootsPem },
      { name: 'tsa-two', url: 'http://tsa-two.invalid/', rootsPem },
    ]),
    ANCHORLOG_ANCHOR_QUORUM: '2',
  };
  // Records received in March: by the jobs' (real) clock, months ago.
  const clock = new ManualClock({ startMs: Date.UTC(2026, 2, 1, 12) });
  const registry = new LogRegistry({ store: logs, clock });
  const ingest = new IngestService({ store: logs, clock, sleep: async () => {} });
  for (const logId of ['fine', 'stuck']) {
    await registry.createLog(logId);
    await ingest.append({
      logId,
      submitter: 'svc',
      body: utf8(
        JSON.stringify({
          events: [
            {
              occurredAt: '2026-03-01T12:00:00Z',
              actor: { type: 'agent', id: 'a' },
              action: 'tool.call',
              outcome: 'success',
            },
          ],
        }),
      ),
    });
  }
  // An integrity halt, as the sealer records one (src/app/seal.ts).
  await new DynamoSealStateStore({ client: ddb, tableName: TABLE }).halt(
    'stuck',
    'FORK: the archive holds a checkpoint this state does not extend',
    Date.now(),
  );
});

async function healthRecords(): Promise<LogRecord[]> {
  const batches = await logs.readBatches(SYSTEM_LOG_ID, 1, 1000);
  return batches
    .flatMap((b) => b.records.map((r) => decodeRecord(r.bytes)))
    .filter((r) => r.event.action.startsWith('anchorlog.health.'));
}

describe('health events through the seal, anchor and deliver jobs', () => {
  it('are observed, recorded once as system:health, and observed again without a second record', async () => {
    const services = createServices(loadConfig(env));
    const lines: JobLogLine[] = [];
    const metrics = new MemoryMetricsSink();
    const seal = scheduledJob(sealJob(services, { metrics }), (l) => lines.push(l));
    const anchor = scheduledJob(
      await anchorJob(services, { metrics, fetch: refusingFetch, retry: { attempts: 1 } }),
      (l) => lines.push(l),
    );
    const deliver = scheduledJob(
      deliverJob(services, await createDeliveryService(services, { metrics })),
      (l) => lines.push(l),
    );
    const outbox = new DynamoHealthOutbox({ client: ddb, tableName: TABLE });

    // `stuck` is halted: the seal invocation fails for it and seals `fine`.
    await expect(seal({ logIds: ['fine', 'stuck'] }, context)).rejects.toMatchObject({
      name: 'ScheduledJobError',
    });
    // Both TSAs refuse: below quorum for `fine` (the job fails for it; `stuck` has no checkpoint).
    await anchor({ logIds: ['fine', 'stuck'] }, context).catch(() => undefined);
    const observed = (await outbox.pending(100)).map((e) => [e.action, e.target.id]).sort();
    expect(observed).toEqual([
      ['anchorlog.health.anchor_quorum_missed', 'fine'],
      ['anchorlog.health.seal_halted', 'stuck'],
      ['anchorlog.health.seal_lag', 'stuck'],
      ['anchorlog.health.tsa_failure', 'tsa-one'],
      ['anchorlog.health.tsa_failure', 'tsa-two'],
    ]);
    expect(lines.filter((l) => String(l.message).includes('metrics failed'))).toEqual([]);

    expect(await deliver({ logIds: [] }, context)).toMatchObject({ healthRecorded: 5 });
    expect(await outbox.pending(100)).toEqual([]);
    const first = await healthRecords();
    expect(first.map((r) => [r.event.action, r.submitter, r.event.actor.id]).sort()).toEqual(
      observed.map(([action]) => [action, 'system:health', 'system:health']),
    );
    const halted = first.find((r) => r.event.action === 'anchorlog.health.seal_halted');
    expect(halted?.event.metadata).toMatchObject({ haltCode: 'FORK' });

    // The next seal run sees the same halt and the same stuck batch: observed again, recorded never.
    await expect(seal({ logIds: ['stuck'] }, context)).rejects.toMatchObject({ name: 'ScheduledJobError' });
    expect(await outbox.pending(100)).toHaveLength(2);
    expect(await deliver({ logIds: [] }, context)).toMatchObject({ healthRecorded: 0 });
    expect(await outbox.pending(100)).toEqual([]);
    expect((await healthRecords()).map((r) => r.event.id)).toEqual(first.map((r) => r.event.id));
  });
});
