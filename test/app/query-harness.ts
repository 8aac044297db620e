/**
 * Shared set-up for the query tests: real ingest (records spread over months
 * by a steerable clock), real sealer (local signer), the projector and the
 * query service, and a brute-force reference filter over every record of the
 * log. `queryEnv` builds them on the in-memory adapters (held to the same
 * contracts as the AWS ones); ./query-moto.ts on DynamoDB and S3 in moto, for
 * the Lambda handler's test.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { MemoryArchiveStore } from '../../src/adapters/memory/archive-store.ts';
import { ManualClock } from '../../src/adapters/memory/clock.ts';
import { LocalNoteSigner } from '../../src/adapters/memory/local-signer.ts';
import { MemoryLogStore } from '../../src/adapters/memory/log-store.ts';
import { MemoryQueryIndex } from '../../src/adapters/memory/query-index.ts';
import { MemorySealStateStore } from '../../src/adapters/memory/seal-state.ts';
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
import type { ArchiveStore } from '../../src/ports/archive-store.ts';
import type { LogStore } from '../../src/ports/log-store.ts';
import type { QueryIndexStore } from '../../src/ports/query-index.ts';
import type { SealStateStore } from '../../src/ports/seal-state.ts';

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

/** The stores the query tests need. */
export interface QueryPorts {
  logs: LogStore;
  index: QueryIndexStore;
  archive: ArchiveStore;
  sealState: SealStateStore;
}

export interface QEnv extends QueryPorts {
  ingest: IngestService;
  logRegistry: LogRegistry;
  clock: ManualClock;
  projector: (extra?: Partial<ConstructorParameters<typeof QueryProjector>[0]>) => QueryProjector;
  service: (extra?: Partial<QueryServiceOptions>) => QueryService;
  sealer: () => SealService;
}

/** The query tests' environment on `ports`. */
export function queryEnvOn(ports: QueryPorts): QEnv {
  const { logs, index, archive, sealState } = ports;
  const clock = new ManualClock({ startMs: Date.UTC(2025, 9, 1, 8) });
  const signer = LocalNoteSigner.generate('query-test-key');
  return {
    ...ports,
    clock,
    ingest: new IngestService({ store: logs, clock, sleep: clock.sleep }),
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

export interface MemoryQEnv extends QEnv {
  index: MemoryQueryIndex;
}

/** The query tests' environment on the in-memory adapters. */
export function queryEnv(): MemoryQEnv {
  const index = new MemoryQueryIndex();
  return {
    ...queryEnvOn({
      logs: new MemoryLogStore(),
      index,
      archive: new MemoryArchiveStore({ retentionDays: 400 }),
      sealState: new MemorySealStateStore(),
    }),
    index,
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
    if (rnd() > 0.15) env.clock.advance(Math.floor(rnd() * opts.maxGapMs));
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

/** Deletes every query item (what DynamoDB TTL does once they expire). */
export function deleteQueryItems(env: MemoryQEnv): number {
  return env.index.expire(Number.MAX_SAFE_INTEGER);
}
