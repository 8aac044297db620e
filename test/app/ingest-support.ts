/**
 * Shared fixtures for the ingest tests: a log store, a steerable clock, the
 * ingest service over them, and the invariant checker every scenario ends
 * with. `memoryEnv` puts them on the in-memory log store (held to the same
 * contract as DynamoDB's); ./ingest-moto.ts on a DynamoDB table in moto, with
 * an optional SDK fault injector, for the fault and concurrency tests.
 */
import { expect } from 'vitest';
import { ManualClock } from '../../src/adapters/memory/clock.ts';
import { MemoryLogStore } from '../../src/adapters/memory/log-store.ts';
import { type IngestLimits, IngestService } from '../../src/app/ingest.ts';
import { LogRegistry } from '../../src/app/log-registry.ts';
import { fromBase64, toBase64, utf8 } from '../../src/core/bytes.ts';
import { decodeRecord, leafHash, verifyChain, ZERO_HASH } from '../../src/core/record.ts';
import type { LogStore, Receipt, StoredBatch } from '../../src/ports/log-store.ts';

/** The ingest tests' clock: 2026-03-01T12:00Z, a millisecond further after every read. */
export const testClock = (startMs = Date.UTC(2026, 2, 1, 12, 0, 0)) =>
  new ManualClock({ startMs, stepMs: 1 });

export interface Env<S extends LogStore = LogStore> {
  store: S;
  clock: ManualClock;
  service: (opts?: { limits?: Partial<IngestLimits>; clock?: ManualClock }) => IngestService;
  /** Creates logs (the admin path; ingest itself cannot). */
  logRegistry: LogRegistry;
  warnings: string[];
}

/** The ingest tests' environment on `store`. */
export function envOn<S extends LogStore>(store: S, sleep: (ms: number) => Promise<void>): Env<S> {
  const clock = testClock();
  const warnings: string[] = [];
  return {
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

/** The ingest tests' environment on the in-memory log store; backoff sleeps advance the clock. */
export function memoryEnv(): Env<MemoryLogStore> {
  const env: Env<MemoryLogStore> = envOn(new MemoryLogStore(), (ms) => env.clock.sleep(ms));
  return env;
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

export async function readAll(store: LogStore, logId: string): Promise<StoredBatch[]> {
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
  store: LogStore,
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
