/**
 * Shared set-up for the query tests: real DynamoDB and S3 (moto), real
 * ingest (records spread over months by a steerable clock), real sealer
 * (local signer), the projector and the query service, and a brute-force
 * reference filter over every record of the log.
 */
import { randomBytes } from 'node:crypto';
import { DeleteItemCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { expect } from 'vitest';
import { DynamoLogStore } from '../../src/adapters/aws/dynamo-log-store.ts';
import { DynamoQueryIndex } from '../../src/adapters/aws/dynamo-query-index.ts';
import { DynamoSealStateStore } from '../../src/adapters/aws/dynamo-seal-state-store.ts';
import { createArchiveBucket, S3ArchiveStore } from '../../src/adapters/aws/s3-archive-store.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { LocalNoteSigner } from '../../src/adapters/memory/local-signer.ts';
import { IngestService } from '../../src/app/ingest.ts';
import { LogRegistry } from '../../src/app/log-registry.ts';
import {
  type QueryParams,
  type QueryRecord,
  QueryService,
  type QueryServiceOptions,
} from '../../src/app/query.ts';
import { DAY_MS, QueryProjector } from '../../src/app/query-projector.ts';
import { SealService } from '../../src/app/seal.ts';
import { toBase64, utf8 } from '../../src/core/bytes.ts';
import { parseUtcTimestamp } from '../../src/core/event.ts';
import { decodeRecord, type LogRecord, leafHash } from '../../src/core/record.ts';
import { awsClientConfig } from '../support/aws.ts';

export const HOT_WINDOW_MS = 30 * DAY_MS;
/** The cursor key every service of a test environment shares (a deployment's one secret). */
export const CURSOR_KEY = new Uint8Array(randomBytes(32));
export const ACTORS = ['alice', 'bob', 'agent-7', 'svc#1', 'ünïcode'];
export const ACTIONS = [
  'access',
  'access.grant',
  'access.revoke',
  'access.grant.temporary',
  'tool.call',
  'tool.list',
  'agent.task.submit',
  'agent.task.cancel',
  'config.update',
];
export const SUBMITTERS = ['svc-a', 'svc-b', 'svc-c'];

export interface QEnv {
  ddb: DynamoDBClient;
  table: string;
  logs: DynamoLogStore;
  index: DynamoQueryIndex;
  archive: S3ArchiveStore;
  sealState: DynamoSealStateStore;
  ingest: IngestService;
  logRegistry: LogRegistry;
  clock: { t: number; now(): number };
  projector: (extra?: Partial<ConstructorParameters<typeof QueryProjector>[0]>) => QueryProjector;
  service: (extra?: Partial<QueryServiceOptions>) => QueryService;
  sealer: () => SealService;
}

export async function queryEnv(name: string): Promise<QEnv> {
  const cfg = awsClientConfig();
  const ddb = new DynamoDBClient(cfg);
  const s3 = new S3Client(cfg);
  const table = `anchorlog-${name}`;
  const bucket = `anchorlog-archive-${name}`;
  await ensureTable(ddb, table);
  await createArchiveBucket(s3, bucket, 400);
  const clock = { t: Date.UTC(2025, 9, 1, 8), now: () => clock.t };
  const logs = new DynamoLogStore({ client: ddb, tableName: table, sleep: async () => {} });
  const index = new DynamoQueryIndex({ client: ddb, tableName: table, sleep: async () => {} });
  const archive = new S3ArchiveStore({ client: s3, bucket });
  const sealState = new DynamoSealStateStore({ client: ddb, tableName: table });
  const signer = LocalNoteSigner.generate('query-test-key');
  return {
    ddb,
    table,
    logs,
    index,
    archive,
    sealState,
    clock,
    ingest: new IngestService({ store: logs, clock, sleep: async () => {} }),
    logRegistry: new LogRegistry({ store: logs, clock }),
    projector: (extra = {}) =>
      new QueryProjector({ logs, index, clock, hotWindowMs: HOT_WINDOW_MS, ...extra }),
    service: (extra = {}) =>
      new QueryService({
        logs,
        index,
        archive,
        sealState,
        clock,
        hotWindowMs: HOT_WINDOW_MS,
        cursorKey: CURSOR_KEY,
        ...extra,
      }),
    sealer: () =>
      new SealService({
        logs,
        state: sealState,
        archive,
        signer,
        clock,
        originPrefix: 'query.test',
        maxRecordsPerRun: 300,
      }),
  };
}

/** Deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Appends `batches` requests of 1–`maxPer` events, the clock moving by up to
 * `maxGapMs` between them (several batches may share one millisecond).
 */
export async function grow(
  env: QEnv,
  logId: string,
  opts: { batches: number; maxPer: number; maxGapMs: number; seed: number },
): Promise<void> {
  const rnd = prng(opts.seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)] as T;
  for (let b = 0; b < opts.batches; b++) {
    if (rnd() > 0.15) env.clock.t += Math.floor(rnd() * opts.maxGapMs);
    const n = 1 + Math.floor(rnd() * opts.maxPer);
    const events = Array.from({ length: n }, (_, k) => ({
      occurredAt: '2025-10-01T00:00:00.000Z',
      actor: { type: 'human', id: pick(ACTORS) },
      action: pick(ACTIONS),
      target: { type: 'doc', id: `d-${b}-${k}` },
      outcome: 'success',
    }));
    await env.ingest.append({ logId, submitter: pick(SUBMITTERS), body: utf8(JSON.stringify({ events })) });
  }
}

export interface Ref {
  rec: LogRecord;
  at: number;
  leafHash: string;
}

export async function allRecords(env: QEnv, logId: string): Promise<Ref[]> {
  const out: Ref[] = [];
  for (let seq = 1; ; ) {
    const got = await env.logs.readBatches(logId, seq, 100);
    for (const b of got)
      for (const r of b.records) {
        const rec = decodeRecord(r.bytes);
        out.push({
          rec,
          at: parseUtcTimestamp(rec.receivedAt) as number,
          leafHash: toBase64(leafHash(r.bytes)),
        });
      }
    if (got.length < 100) return out;
    seq += got.length;
  }
}

/** The reference answer: a plain filter over every record. */
export function bruteForce(all: readonly Ref[], p: QueryParams): Ref[] {
  const from = p.from === undefined ? Number.NEGATIVE_INFINITY : Date.parse(p.from);
  const to = p.to === undefined ? Number.POSITIVE_INFINITY : Date.parse(p.to);
  return all.filter(
    (r) =>
      r.at >= from &&
      r.at < to &&
      (p.actorId === undefined || r.rec.event.actor.id === p.actorId) &&
      (p.submitter === undefined || r.rec.submitter === p.submitter) &&
      (p.actionPrefix === undefined ||
        r.rec.event.action === p.actionPrefix ||
        r.rec.event.action.startsWith(`${p.actionPrefix}.`)),
  );
}

/** Follows cursors to exhaustion; returns every record and the number of pages. */
export async function drain(
  svc: QueryService,
  logId: string,
  p: QueryParams,
  maxPages = 10_000,
): Promise<{ records: QueryRecord[]; pages: number }> {
  const records: QueryRecord[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await svc.query(logId, { ...p, ...(cursor ? { cursor } : {}) });
    pages++;
    expect(page.records.length).toBeLessThanOrEqual(p.limit ?? 100);
    records.push(...page.records);
    cursor = page.cursor;
    if (pages > maxPages) throw new Error('too many pages');
  } while (cursor);
  return { records, pages };
}

export function expectSame(got: readonly QueryRecord[], want: readonly Ref[]): void {
  expect(got.map((r) => r.index)).toEqual(want.map((r) => r.rec.index));
  for (let i = 0; i < got.length; i++) {
    const g = got[i] as QueryRecord;
    const w = want[i] as Ref;
    expect(g.leafHash).toBe(w.leafHash);
    expect(g.receivedAt).toBe(w.rec.receivedAt);
    expect(g.submitter).toBe(w.rec.submitter);
    expect(g.event).toEqual(w.rec.event);
  }
}

/** Deletes every query item of the table (what DynamoDB TTL does once they expire). Test-only scan. */
export async function deleteQueryItems(env: QEnv): Promise<number> {
  let n = 0;
  let start: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined;
  do {
    const page = await env.ddb.send(new ScanCommand({ TableName: env.table, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) {
      const pk = item.pk;
      const sk = item.sk;
      if (!pk || !sk || !/^Q#[^#]+#\d{4}-\d{2}-\d{2}$/.test(pk.S ?? '')) continue;
      await env.ddb.send(new DeleteItemCommand({ TableName: env.table, Key: { pk, sk } }));
      n++;
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return n;
}
