/**
 * Shared fixtures for the ingest tests: a real DynamoDB (moto) table behind
 * DynamoLogStore, an optional fault injector on the client, a steerable
 * clock, and the invariant checker every fault scenario ends with.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { expect } from 'vitest';
import { DynamoLogStore } from '../../src/adapters/aws/dynamo-log-store.ts';
import type { FaultInjector } from '../../src/adapters/aws/faulty-dynamo.ts';
import { ensureTable } from '../../src/adapters/aws/table.ts';
import { type IngestLimits, IngestService } from '../../src/app/ingest.ts';
import { LogRegistry } from '../../src/app/log-registry.ts';
import { fromBase64, toBase64, utf8 } from '../../src/core/bytes.ts';
import { decodeRecord, leafHash, verifyChain, ZERO_HASH } from '../../src/core/record.ts';
import type { Receipt, StoredBatch } from '../../src/ports/log-store.ts';
import { awsClientConfig } from '../support/aws.ts';

export class TestClock {
  constructor(public t = Date.UTC(2026, 2, 1, 12, 0, 0)) {}
  /** Milliseconds added after every read (0 = frozen). */
  step = 1;
  now(): number {
    const v = this.t;
    this.t += this.step;
    return v;
  }
}

/** Real but short pauses: backoff stays exercised without slowing the suite. */
export const fastSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 5)));

let tableCounter = 0;
export async function newTable(): Promise<{ client: DynamoDBClient; tableName: string }> {
  const client = new DynamoDBClient(awsClientConfig());
  const tableName = `anchorlog-ingest-${process.pid}-${++tableCounter}`;
  await ensureTable(client, tableName);
  return { client, tableName };
}

export interface Env {
  client: DynamoDBClient;
  store: DynamoLogStore;
  clock: TestClock;
  service: (opts?: { limits?: Partial<IngestLimits>; clock?: TestClock }) => IngestService;
  /** Creates logs (the admin path; ingest itself cannot). */
  logRegistry: LogRegistry;
  warnings: string[];
}

/** A store on `tableName`; with `faults`, its client is a separate faulted one. */
export function makeEnv(
  tableName: string,
  faults?: FaultInjector,
  sleep: (ms: number) => Promise<void> = fastSleep,
): Env {
  const client = new DynamoDBClient(awsClientConfig());
  if (faults) faults.attach(client);
  const store = new DynamoLogStore({ client, tableName, sleep: fastSleep });
  const clock = new TestClock();
  const warnings: string[] = [];
  return {
    client,
    store,
    clock,
    warnings,
    logRegistry: new LogRegistry({ store, clock }),
    service: (opts = {}) =>
      new IngestService({
        store,
        clock: opts.clock ?? clock,
        sleep,
        onWarning: (m) => warnings.push(m),
        ...(opts.limits ? { limits: opts.limits } : {}),
      }),
  };
}

let eventCounter = 0;
/** A valid event tagged with a unique `metadata.n` so the checker can count copies. */
export function event(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    occurredAt: '2026-03-01T11:59:00.000Z',
    actor: { type: 'agent', id: 'agent-7', onBehalfOf: { type: 'human', id: 'alice' } },
    action: 'tool.call',
    target: { type: 'tool', id: 'search' },
    outcome: 'success',
    metadata: { n: `${process.pid}-${++eventCounter}` },
    ...extra,
  };
}

export function body(events: unknown[]): Uint8Array {
  return utf8(JSON.stringify({ events }));
}

export async function readAll(store: DynamoLogStore, logId: string): Promise<StoredBatch[]> {
  const out: StoredBatch[] = [];
  for (;;) {
    const page = await store.readBatches(logId, out.length + 1, 100);
    out.push(...page);
    if (page.length < 100) return out;
  }
}

/**
 * Reads the whole log back and checks, whatever happened before:
 *  - batches numbered 1..n, indexes contiguous from 0 (no gap, no fork);
 *  - every record decodes, chains to the one before (first prev = 32 zero
 *    bytes), receivedAt never decreases (core verifyChain);
 *  - every acknowledged receipt is present with identical hash, prev, time;
 *  - no event (by metadata.n) stored twice;
 *  - the head hint never points past the tip.
 * Returns the number of records.
 */
export async function checkInvariants(
  store: DynamoLogStore,
  logId: string,
  acked: readonly Receipt[] = [],
  opts: { sameEventTwice?: boolean } = {},
): Promise<{ records: number; batches: number; tags: Map<string, number> }> {
  const batches = await readAll(store, logId);
  let prevHash = ZERO_HASH;
  let next = 0;
  const all: Uint8Array[] = [];
  batches.forEach((b, i) => {
    expect(b.seq).toBe(i + 1);
    expect(b.firstIndex).toBe(next);
    expect(toBase64(b.prevHash)).toBe(toBase64(prevHash));
    expect(b.records.length).toBe(b.count);
    for (const r of b.records) {
      expect(r.index).toBe(next++);
      all.push(r.bytes);
    }
    prevHash = b.lastLeafHash;
  });
  const summary = verifyChain(all, ZERO_HASH, { firstIndex: 0, logId });
  expect(summary.count).toBe(next);
  const tags = new Map<string, number>();
  for (const bytes of all) {
    const rec = decodeRecord(bytes);
    const n = String((rec.event.metadata as { n?: unknown } | undefined)?.n);
    tags.set(n, (tags.get(n) ?? 0) + 1);
  }
  const dups = [...tags].filter(([, c]) => c > 1);
  if (!opts.sameEventTwice) expect(dups).toEqual([]);
  for (const r of acked) {
    const bytes = all[r.index];
    expect(bytes, `acknowledged index ${r.index} is missing`).toBeDefined();
    if (!bytes) continue;
    const rec = decodeRecord(bytes);
    expect({ leafHash: toBase64(leafHash(bytes)), prev: rec.prev, receivedAt: rec.receivedAt }).toEqual({
      leafHash: r.leafHash,
      prev: r.prev,
      receivedAt: r.receivedAt,
    });
    expect(fromBase64(r.leafHash).length).toBe(32);
  }
  const tip = await store.readTip(logId);
  expect(tip.seq).toBe(batches.length);
  expect(tip.nextIndex).toBe(next);
  return { records: next, batches: batches.length, tags };
}
