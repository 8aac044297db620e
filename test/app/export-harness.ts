/**
 * A real, sealed and anchored log for the export tests: DynamoDB and S3 in
 * moto, IngestService with an injected clock (receivedAt where the test puts
 * it), the real SealService (local P-256 signer), the real AnchorService with
 * the harness's two OpenSSL TSAs, and ExportService over all of it.
 */
import { readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoAnchorStore } from '../../src/adapters/aws/dynamo-anchor-store.ts';
import { dynamoAnchoredSizes } from '../../src/adapters/aws/dynamo-anchored-sizes.ts';
import { DynamoLogStore } from '../../src/adapters/aws/dynamo-log-store.ts';
import { DynamoSealStateStore } from '../../src/adapters/aws/dynamo-seal-state-store.ts';
import { createArchiveBucket, S3ArchiveStore } from '../../src/adapters/aws/s3-archive-store.ts';
import { createExportsBucket, S3ExportStore } from '../../src/adapters/aws/s3-export-store.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { LocalNoteSigner } from '../../src/adapters/memory/local-signer.ts';
import { MemoryMetricsSink } from '../../src/adapters/memory/metrics.ts';
import { HttpTimestamper } from '../../src/adapters/tsa/http-timestamper.ts';
import { AnchorService } from '../../src/app/anchor.ts';
import { ExportService, type ExportServiceOptions } from '../../src/app/export.ts';
import { IngestService } from '../../src/app/ingest.ts';
import { LogRegistry } from '../../src/app/log-registry.ts';
import { ProofService } from '../../src/app/proofs.ts';
import { SealService } from '../../src/app/seal.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { vkeyFromSpki } from '../../src/core/note/vkey.ts';
import { awsClientConfig } from '../support/aws.ts';
import { harnessTsas } from '../support/tsa.ts';

export const ORIGIN_PREFIX = 'export.test.anchorlog';

export interface ExportEnv {
  ddb: DynamoDBClient;
  s3: S3Client;
  table: string;
  exportsBucket: string;
  logs: DynamoLogStore;
  archive: S3ArchiveStore;
  anchors: DynamoAnchorStore;
  ingest: IngestService;
  logRegistry: LogRegistry;
  seal: SealService;
  anchor: AnchorService;
  proofs: ProofService;
  signer: LocalNoteSigner;
  clock: { t: number; now(): number };
  /** PEM of the two TSA roots (ecdsa, rsa). */
  tsaRootsPem: string[];
  exporter(extra?: Partial<ExportServiceOptions>): ExportService;
  vkey(logId: string): string;
}

/** A TSA the anchor service asks, as src/config.ts `tsas[]` describes one. */
export interface HarnessTsa {
  name: string;
  url: string;
  rootsPem: string;
}

/**
 * `tsas` replaces the harness's two TSAs (`ecdsa`, `rsa`), e.g. with
 * `loadConfig(...).tsas`; the quorum is then all of them.
 */
export async function exportEnv(
  name: string,
  opts: { tsas?: readonly HarnessTsa[] } = {},
): Promise<ExportEnv> {
  const cfg = awsClientConfig();
  const ddb = new DynamoDBClient(cfg);
  const s3 = new S3Client(cfg);
  const table = `anchorlog-${name}`;
  const bucket = `anchorlog-archive-${name}`;
  const exportsBucket = `anchorlog-exports-${name}`;
  await ensureTable(ddb, table);
  await createArchiveBucket(s3, bucket, 1);
  await createExportsBucket(s3, exportsBucket);
  const clock = { t: Date.UTC(2026, 0, 1), now: () => clock.t };
  const logs = new DynamoLogStore({ client: ddb, tableName: table, sleep: async () => {} });
  const archive = new S3ArchiveStore({ client: s3, bucket });
  const state = new DynamoSealStateStore({ client: ddb, tableName: table });
  const anchors = new DynamoAnchorStore({ client: ddb, tableName: table });
  const signer = LocalNoteSigner.generate('export-test-key');
  const ingest = new IngestService({ store: logs, clock, sleep: async () => {} });
  const seal = new SealService({
    logs,
    state,
    archive,
    signer,
    clock,
    originPrefix: ORIGIN_PREFIX,
    maxRecordsPerRun: 1_000_000,
  });
  const tsa = harnessTsas();
  const tsaRootsPem = [
    readFileSync(tsa.ecdsa.rootCertPath, 'utf8'),
    readFileSync(tsa.rsa.rootCertPath, 'utf8'),
  ];
  const tsas = opts.tsas ?? [
    { name: 'ecdsa', url: tsa.ecdsa.url, rootsPem: tsaRootsPem[0] as string },
    { name: 'rsa', url: tsa.rsa.url, rootsPem: tsaRootsPem[1] as string },
  ];
  const anchor = new AnchorService({
    archive,
    originPrefix: ORIGIN_PREFIX,
    logPublicKeys: [signer.publicKeySpki],
    anchors,
    timestampers: tsas.map((t) => new HttpTimestamper(t)),
    quorum: tsas.length,
    clock,
    random: (n) => crypto.getRandomValues(new Uint8Array(n)),
    metrics: new MemoryMetricsSink(),
    sleep: async () => {},
  });
  const publicKeys = async () => [signer.publicKeySpki];
  const proofs = new ProofService({ archive, originPrefix: ORIGIN_PREFIX, publicKeys });
  const exporter = (extra: Partial<ExportServiceOptions> = {}) =>
    new ExportService({
      logs,
      proofs,
      publicKeys,
      archive,
      anchors,
      anchoredSizes: dynamoAnchoredSizes({ client: ddb, tableName: table }),
      clock,
      store: new S3ExportStore({ client: s3, bucket: exportsBucket }),
      ...extra,
    });
  return {
    ddb,
    s3,
    table,
    exportsBucket,
    logs,
    archive,
    anchors,
    ingest,
    logRegistry: new LogRegistry({ store: logs, clock }),
    seal,
    anchor,
    proofs,
    signer,
    clock,
    tsaRootsPem,
    exporter,
    vkey: (logId) => vkeyFromSpki(`${ORIGIN_PREFIX}/${logId}`, signer.publicKeySpki),
  };
}

export interface PlannedEvent {
  action: string;
  actor: string;
  target: string;
}

/** Appends one batch with receivedAt = `at` (the injected clock). Returns the first index. */
export async function appendAt(
  env: ExportEnv,
  logId: string,
  at: string,
  events: PlannedEvent[],
): Promise<number> {
  env.clock.t = Date.parse(at);
  const body = {
    events: events.map((e) => ({
      occurredAt: at,
      actor: { type: 'human', id: e.actor },
      action: e.action,
      target: { type: 'resource', id: e.target },
      outcome: 'success',
    })),
  };
  const out = await env.ingest.append({
    logId,
    submitter: 'svc-export-test',
    body: utf8(JSON.stringify(body)),
  });
  return out.receipts[0]?.index ?? -1;
}

/** Seal then anchor with every TSA; throws unless all of that happens. Returns the checkpoint size. */
export async function sealAndAnchor(env: ExportEnv, logId: string): Promise<number> {
  const s = await env.seal.sealLog(logId);
  if (s.status !== 'sealed') throw new Error(`seal of ${logId}: ${s.status}`);
  const a = await env.anchor.anchorLog(logId);
  if (a.status !== 'anchored' || a.granted !== a.tsaCount)
    throw new Error(`anchor of ${logId}: ${a.status} (${JSON.stringify(a.tsas)})`);
  return a.size;
}
