/**
 * Every port's contract suite against the AWS adapters on the emulator (and
 * the HTTP timestamper against the OpenSSL TSAs of the test harness):
 * the same suites test/contracts/memory.test.ts runs against the in-memory
 * adapters. AWS-only behaviour (key layout, legacy items, IAM, metering,
 * SDK faults) stays in test/adapters/.
 */

import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll } from 'vitest';
import { DynamoAccessReviewStore } from '../../src/adapters/aws/dynamo-access-review-store.ts';
import { DynamoAlertReviewStore } from '../../src/adapters/aws/dynamo-alert-review-store.ts';
import { DynamoAnchorStore } from '../../src/adapters/aws/dynamo-anchor-store.ts';
import { dynamoAnchoredSizes } from '../../src/adapters/aws/dynamo-anchored-sizes.ts';
import { DynamoDeliveryStore } from '../../src/adapters/aws/dynamo-delivery-store.ts';
import { DynamoDetectionStateStore } from '../../src/adapters/aws/dynamo-detection-state.ts';
import { DynamoHealthOutbox } from '../../src/adapters/aws/dynamo-health-outbox.ts';
import { DynamoLogPolicyStore } from '../../src/adapters/aws/dynamo-log-policy-store.ts';
import { DynamoLogStore } from '../../src/adapters/aws/dynamo-log-store.ts';
import { DynamoPendingStore } from '../../src/adapters/aws/dynamo-pending-store.ts';
import { DynamoPrincipalStore } from '../../src/adapters/aws/dynamo-principal-store.ts';
import { DynamoProducerKeyStore } from '../../src/adapters/aws/dynamo-producer-key-store.ts';
import { DynamoProducerStore } from '../../src/adapters/aws/dynamo-producer-store.ts';
import { DynamoQueryIndex } from '../../src/adapters/aws/dynamo-query-index.ts';
import { DynamoRoleStore } from '../../src/adapters/aws/dynamo-role-store.ts';
import { DynamoRuleStore } from '../../src/adapters/aws/dynamo-rule-store.ts';
import { DynamoSealStateStore } from '../../src/adapters/aws/dynamo-seal-state-store.ts';
import { DynamoStreamStore } from '../../src/adapters/aws/dynamo-stream-store.ts';
import { DynamoWitnessLedgerStore } from '../../src/adapters/aws/dynamo-witness-ledger-store.ts';
import { DynamoWitnessStateStore } from '../../src/adapters/aws/dynamo-witness-state.ts';
import { KmsNoteSigner } from '../../src/adapters/aws/kms-signer.ts';
import { createArchiveBucket, S3ArchiveStore } from '../../src/adapters/aws/s3-archive-store.ts';
import { createIndexBucket, S3ColumnarIndex } from '../../src/adapters/aws/s3-columnar-index.ts';
import { createExportsBucket, S3ExportStore } from '../../src/adapters/aws/s3-export-store.ts';
import { putSecret, SecretsManagerSource } from '../../src/adapters/aws/secrets-manager-source.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { EmfMetricsSink } from '../../src/adapters/metrics/emf-metrics.ts';
import { HttpNotifier } from '../../src/adapters/notify/http-notifier.ts';
import { HttpRekor } from '../../src/adapters/rekor/http-rekor.ts';
import { S3StreamSink } from '../../src/adapters/streams/s3-stream-sink.ts';
import { HttpTimestamper } from '../../src/adapters/tsa/http-timestamper.ts';
import { HttpWitness } from '../../src/adapters/witness/http-witness.ts';
import { StoredRuleSource } from '../../src/app/stored-rule-source.ts';
import { parseWebhookSecrets } from '../../src/core/deliver/webhook-signature.ts';
import { startLocalRekor } from '../../src/local/rekor.ts';
import { startLocalWitness } from '../../src/local/witness.ts';
import { systemClock } from '../../src/ports/clock.ts';
import type { MetricDatum, MetricsEmission, MetricUnit } from '../../src/ports/metrics.ts';
import { RuleSourceError } from '../../src/ports/rule-source.ts';
import { rulesOnMoto } from '../app/rules-moto.ts';
import { seed, testLog } from '../core/witness/support.ts';
import { awsClientConfig } from '../support/aws.ts';
import { harnessTsas } from '../support/tsa.ts';
import { accessReviewStoreContract } from './access-review-store.contract.ts';
import { alertReviewStoreContract } from './alert-review-store.contract.ts';
import { anchorStoreContract } from './anchor-store.contract.ts';
import { archiveStoreContract } from './archive-store.contract.ts';
import { clockContract } from './clock.contract.ts';
import { columnarIndexContract } from './columnar-index.contract.ts';
import { deliveryStoreContract } from './delivery-store.contract.ts';
import { detectionStateContract } from './detection-state.contract.ts';
import { exportStoreContract } from './export-store.contract.ts';
import { healthOutboxContract } from './health-outbox.contract.ts';
import { logPolicyStoreContract } from './log-policy-store.contract.ts';
import { logStoreContract } from './log-store.contract.ts';
import { metricsContract } from './metrics.contract.ts';
import { notifierContract } from './notifier.contract.ts';
import { pendingStoreContract } from './pending-store.contract.ts';
import { principalStoreContract } from './principal-store.contract.ts';
import { producerKeyStoreContract } from './producer-key-store.contract.ts';
import { producerStoreContract } from './producer-store.contract.ts';
import { queryIndexContract } from './query-index.contract.ts';
import { rekorContract } from './rekor.contract.ts';
import { roleStoreContract } from './role-store.contract.ts';
import { ruleSourceContract } from './rule-source.contract.ts';
import { ruleStoreContract } from './rule-store.contract.ts';
import { sealStateContract } from './seal-state.contract.ts';
import { secretSourceContract } from './secret-source.contract.ts';
import { SIGNER_CONTRACT_ORIGIN, signerContract } from './signer.contract.ts';
import { streamSinkContract } from './stream-sink.contract.ts';
import { streamStoreContract } from './stream-store.contract.ts';
import { uniqueId } from './support.ts';
import { timestamperContract } from './timestamper.contract.ts';
import { witnessContract } from './witness.contract.ts';
import { witnessLedgerStoreContract } from './witness-ledger-store.contract.ts';
import { witnessStateContract } from './witness-state.contract.ts';

const TABLE = 'anchorlog-contracts';
const tables = new Map<string, Promise<DynamoDBClient>>();
/** A table, created once (every suite but the principals' listing shares TABLE: their items never overlap). */
function table(name = TABLE): Promise<DynamoDBClient> {
  let ready = tables.get(name);
  if (!ready) {
    ready = (async () => {
      const client = new DynamoDBClient(awsClientConfig());
      await ensureTable(client, name);
      return client;
    })();
    tables.set(name, ready);
  }
  return ready;
}

logStoreContract('DynamoLogStore', async () => {
  const client = await table();
  return new DynamoLogStore({ client, tableName: TABLE, sleep: async () => {} });
});

pendingStoreContract('DynamoPendingStore', async () => {
  const client = await table();
  return new DynamoPendingStore({ client, tableName: TABLE, shards: 3, sleep: async () => {} });
});

// One partition holds every pending observation: each test gets its own table.
healthOutboxContract('DynamoHealthOutbox', async () => {
  const name = uniqueId('health');
  const client = await table(name);
  return new DynamoHealthOutbox({ client, tableName: name });
});

sealStateContract('DynamoSealStateStore', async () => {
  const client = await table();
  return new DynamoSealStateStore({ client, tableName: TABLE });
});

producerStoreContract('DynamoProducerStore', async () => {
  const client = await table();
  return new DynamoProducerStore({ client, tableName: TABLE });
});

producerKeyStoreContract('DynamoProducerKeyStore', async () => {
  const client = await table();
  return new DynamoProducerKeyStore({ client, tableName: TABLE });
});

logPolicyStoreContract('DynamoLogPolicyStore', async () => {
  const client = await table();
  return new DynamoLogPolicyStore({ client, tableName: TABLE });
});

anchorStoreContract('DynamoAnchorStore', async () => {
  const client = await table();
  return {
    store: new DynamoAnchorStore({ client, tableName: TABLE }),
    anchoredSizes: dynamoAnchoredSizes({ client, tableName: TABLE }),
  };
});

queryIndexContract('DynamoQueryIndex', async () => {
  const client = await table();
  return new DynamoQueryIndex({ client, tableName: TABLE, sleep: async () => {} });
});

principalStoreContract('DynamoPrincipalStore', async () => {
  const client = await table();
  return {
    store: new DynamoPrincipalStore({ client, tableName: TABLE }),
    empty: async () => {
      const name = uniqueId('principals');
      return new DynamoPrincipalStore({ client: await table(name), tableName: name });
    },
  };
});

/** GET of a presigned URL: the body on 200, undefined when nothing is there (NoSuchKey; moto answers 403). */
async function download(url: string): Promise<Uint8Array | undefined> {
  const res = await fetch(url);
  const body = new Uint8Array(await res.arrayBuffer());
  if (res.status === 404 || (res.status === 403 && new TextDecoder().decode(body).includes('NoSuchKey')))
    return undefined;
  if (!res.ok) throw new Error(`GET of a presigned URL: HTTP ${res.status}`);
  return body;
}

archiveStoreContract('S3ArchiveStore', async () => {
  const s3 = new S3Client(awsClientConfig());
  const bucket = 'anchorlog-contracts-archive';
  await createArchiveBucket(s3, bucket, 400);
  return {
    store: new S3ArchiveStore({ client: s3, bucket }),
    versionCount: async (key) => {
      const out = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
      return (out.Versions ?? []).filter((v) => v.Key === key).length;
    },
    download,
  };
});

columnarIndexContract('S3ColumnarIndex', async () => {
  const s3 = new S3Client(awsClientConfig());
  const bucket = 'anchorlog-contracts-index';
  await createIndexBucket(s3, bucket);
  return new S3ColumnarIndex({ client: s3, bucket });
});

exportStoreContract('S3ExportStore', async () => {
  const s3 = new S3Client(awsClientConfig());
  const bucket = 'anchorlog-contracts-exports';
  await createExportsBucket(s3, bucket);
  return {
    store: new S3ExportStore({ client: s3, bucket, partBytes: 5 * 1024 * 1024 }),
    // moto refuses the signature of a presigned GET that carries
    // response-content-disposition (SignatureDoesNotMatch; S3 accepts it), so
    // the object the URL names is read with the client instead.
    download: async (url) => {
      const prefix = `/${bucket}/`;
      const path = new URL(url).pathname;
      if (!path.startsWith(prefix)) throw new Error(`not a URL of ${bucket}: ${url}`);
      const key = path.slice(prefix.length).split('/').map(decodeURIComponent).join('/');
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return (await out.Body?.transformToByteArray()) ?? new Uint8Array(0);
      } catch (err) {
        if (err instanceof Error && err.name === 'NoSuchKey') return undefined;
        throw err;
      }
    },
  };
});

signerContract('KmsNoteSigner', async () => {
  const kms = new KMSClient(awsClientConfig());
  const key = await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }));
  const kmsKeyId = key.KeyMetadata?.KeyId;
  if (!kmsKeyId) throw new Error('CreateKey returned no key id');
  return KmsNoteSigner.create({ client: kms, kmsKeyId, keyName: SIGNER_CONTRACT_ORIGIN });
});

secretSourceContract('SecretsManagerSource', async () => {
  const client = new SecretsManagerClient(awsClientConfig());
  return {
    source: new SecretsManagerSource({ client }),
    put: (name, value) => putSecret(client, name, value),
    putBinary: async (name, value) => {
      await client.send(new CreateSecretCommand({ Name: name, SecretBinary: value }));
    },
    remove: async (name) => {
      await client.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
    },
  };
});

for (const flavour of ['ecdsa', 'rsa'] as const)
  timestamperContract(`HttpTimestamper (OpenSSL TSA, ${flavour})`, async () => {
    const tsa = harnessTsas()[flavour];
    const rootsPem = readFileSync(tsa.rootCertPath, 'utf8');
    return { timestamper: new HttpTimestamper({ name: 'contract-tsa', url: tsa.url, rootsPem }), rootsPem };
  });

clockContract('systemClock', () => systemClock);

metricsContract('EmfMetricsSink', async () => {
  const lines: string[] = [];
  return {
    sink: new EmfMetricsSink({ write: (line) => lines.push(line) }),
    emitted: () => lines.map((l) => fromEmf(JSON.parse(l))),
  };
});

/** The emission an EMF document encodes (the inverse of toEmf, for reading back). */
function fromEmf(doc: Record<string, unknown>): MetricsEmission {
  const aws = doc._aws as {
    Timestamp: number;
    CloudWatchMetrics: Array<{ Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: MetricUnit }> }>;
  };
  const spec = aws.CloudWatchMetrics[0];
  const dimNames = spec?.Dimensions[0] ?? [];
  const metrics: MetricDatum[] = (spec?.Metrics ?? []).map((m) => ({
    name: m.Name,
    value: doc[m.Name] as number,
    unit: m.Unit,
  }));
  const taken = new Set(['_aws', ...dimNames, ...metrics.map((m) => m.name)]);
  const properties = Object.fromEntries(Object.entries(doc).filter(([k]) => !taken.has(k))) as Record<
    string,
    string | number | boolean
  >;
  return {
    dimensions: Object.fromEntries(dimNames.map((d) => [d, String(doc[d])])),
    metrics,
    timestampMs: aws.Timestamp,
    ...(Object.keys(properties).length > 0 ? { properties } : {}),
  };
}

detectionStateContract('DynamoDetectionStateStore', async () => {
  const client = new DynamoDBClient(awsClientConfig());
  // A table of its own: the other suites' items never mix with its transactions.
  await ensureTable(client, 'anchorlog-contracts-detection');
  return new DynamoDetectionStateStore({ client, tableName: 'anchorlog-contracts-detection' });
});

accessReviewStoreContract('DynamoAccessReviewStore', async () => {
  const name = 'anchorlog-contracts';
  const client = new DynamoDBClient(awsClientConfig());
  await ensureTable(client, name);
  return {
    store: new DynamoAccessReviewStore({ client, tableName: name }),
    // Every review head shares one partition, so an empty listing needs a table of its own.
    empty: async () => {
      const own = uniqueId('anchorlog-access');
      await ensureTable(client, own);
      return new DynamoAccessReviewStore({ client, tableName: own });
    },
  };
});

alertReviewStoreContract('DynamoAlertReviewStore', async () => {
  const name = 'anchorlog-contracts';
  const client = new DynamoDBClient(awsClientConfig());
  await ensureTable(client, name);
  return {
    store: new DynamoAlertReviewStore({ client, tableName: name }),
    // Every alert shares one partition, so an empty listing needs a table of its own.
    empty: async () => {
      const own = uniqueId('anchorlog-alerts');
      await ensureTable(client, own);
      return new DynamoAlertReviewStore({ client, tableName: own });
    },
  };
});

ruleStoreContract('DynamoRuleStore', async () => {
  const name = 'anchorlog-contracts';
  const client = new DynamoDBClient(awsClientConfig());
  await ensureTable(client, name);
  return {
    store: new DynamoRuleStore({ client, tableName: name }),
    // Every head shares one partition, so an empty listing needs a table of its own.
    empty: async () => {
      const own = uniqueId('anchorlog-rules');
      await ensureTable(client, own);
      return new DynamoRuleStore({ client, tableName: own });
    },
  };
});

roleStoreContract('DynamoRoleStore', async () => {
  const name = 'anchorlog-contracts';
  const client = new DynamoDBClient(awsClientConfig());
  await ensureTable(client, name);
  return {
    store: new DynamoRoleStore({ client, tableName: name }),
    // Every head shares one partition, so an empty listing needs a table of its own.
    empty: async () => {
      const own = uniqueId('anchorlog-roles');
      await ensureTable(client, own);
      return new DynamoRoleStore({ client, tableName: own });
    },
  };
});

// The rule store as a source: each document goes through the admin path (stage → system-log
// record → promote) on a table of its own, and only versions the system log backs are served.
ruleSourceContract('StoredRuleSource over DynamoRuleStore', async (documents) => {
  const env = await rulesOnMoto(uniqueId('rulesrc'));
  for (const doc of documents) {
    await env.rules.put(env.admin, doc.id, { ...doc, enabled: true });
    if (!doc.enabled) await env.rules.setEnabled(env.admin, doc.id, false);
  }
  return new StoredRuleSource({ rules: env.rules, clock: env.clock, errors: RuleSourceError, ttlMs: 0 });
});

deliveryStoreContract('DynamoDeliveryStore', async () => {
  const client = new DynamoDBClient(awsClientConfig());
  await ensureTable(client, 'anchorlog-contracts');
  return new DynamoDeliveryStore({ client, tableName: 'anchorlog-contracts' });
});

const WEBHOOK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const receivers: Server[] = [];
afterAll(() => Promise.all(receivers.map((r) => new Promise<void>((done) => r.close(() => done())))));

// The HTTP notifier (signed webhooks) against a real receiver on a local port.
notifierContract('HttpNotifier (webhook)', {
  async make() {
    const ids: string[] = [];
    let status = 204;
    const server = createServer((req, res) => {
      ids.push(String(req.headers['webhook-id']));
      req.resume();
      req.on('end', () => res.writeHead(status).end());
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
    const a = server.address();
    if (!a || typeof a === 'string') throw new Error('no address');
    receivers.push(server);
    const notifier = new HttpNotifier({
      name: 'soc',
      kind: 'webhook',
      url: `http://127.0.0.1:${a.port}/hook`,
      keys: parseWebhookSecrets(WEBHOOK_SECRET),
      clock: systemClock,
      timeoutMs: 5_000,
    });
    return {
      notifier,
      received: async () => ids,
      refuse(s) {
        status = s;
      },
    };
  },
  async unreachable() {
    // A port that was just free: nothing listens there.
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
    const a = server.address();
    if (!a || typeof a === 'string') throw new Error('no address');
    await new Promise<void>((done) => server.close(() => done()));
    return new HttpNotifier({
      name: 'gone',
      kind: 'webhook',
      url: `http://127.0.0.1:${a.port}/hook`,
      keys: parseWebhookSecrets(WEBHOOK_SECRET),
      clock: systemClock,
      timeoutMs: 2_000,
    });
  },
});

witnessStateContract('DynamoWitnessStateStore', async () => {
  const client = await table();
  return new DynamoWitnessStateStore({ client, tableName: TABLE });
});

// The witness service's own table (cdk/witness-stack.ts), keyed like the log's.
witnessLedgerStoreContract('DynamoWitnessLedgerStore', async () => {
  const name = 'anchorlog-witness-contracts';
  const client = await table(name);
  return new DynamoWitnessLedgerStore({ client, tableName: name });
});

const witnessServers: { close(): Promise<void> }[] = [];
afterAll(() => Promise.all(witnessServers.map((s) => s.close())));

witnessContract('HttpWitness (local tlog-witness server)', async () => {
  const log = testLog('witness-contract.test/http');
  const server = await startLocalWitness({
    keyName: 'witness.contract.test',
    secretKey: seed(12),
    logs: new Map([[log.origin, [log.verifier]]]),
  });
  afterAll(() => server.close());
  return {
    witness: new HttpWitness({ name: 'contract-witness', url: server.url, cosigner: server.cosigner }),
    log,
  };
});

rekorContract('HttpRekor (local Rekor v2 stand-in)', async () => {
  const server = await startLocalRekor({ origin: 'rekor.contract.test' });
  afterAll(() => server.close());
  return { rekor: new HttpRekor({ name: 'contract-rekor', url: server.url }), logKey: server.logKey };
});

streamStoreContract(
  'DynamoStreamStore',
  async () => new DynamoStreamStore({ client: await table(), tableName: TABLE }),
);
streamSinkContract('S3StreamSink', async () => {
  const client = new S3Client(awsClientConfig());
  const bucket = `stream-sink-${Math.random().toString(36).slice(2, 10)}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    sink: new S3StreamSink({ name: 's', client, bucket, prefix: 'p/' }),
    refusing: new S3StreamSink({ name: 's', client, bucket: `${bucket}-missing`, prefix: 'p/' }),
    body: (c) => new TextEncoder().encode(c.docs.map((d) => `${JSON.stringify(d)}\n`).join('')),
    held: async () => {
      const keys = ((await client.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map(
        (o) => o.Key as string,
      );
      const out: number[] = [];
      for (const Key of keys.sort()) {
        const text = await (
          await client.send(new GetObjectCommand({ Bucket: bucket, Key }))
        ).Body?.transformToString();
        for (const line of (text ?? '').split('\n').filter(Boolean))
          out.push((JSON.parse(line) as { index: number }).index);
      }
      return out;
    },
  };
});
