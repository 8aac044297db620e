/**
 * Log streams (src/app/streams.ts) end to end on the in-memory stores: real
 * ingest and sealing, the real HTTP sink, and the local HEC receiver
 * (src/local/hec-receiver.ts) failing in every way a SIEM does — 5xx, 429
 * with Retry-After, hanging, resetting, refusing connections, and taking a
 * chunk but losing the answer. After every run the invariants are checked:
 * every leaf index below the cursor was received, the first receipt of each
 * index comes in log order, nothing unsealed is sent, and at the end every
 * sealed record was delivered.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryMetricsSink } from '../../src/adapters/memory/metrics.ts';
import { MemoryStreamStore } from '../../src/adapters/memory/stream-store.ts';
import { HttpStreamSink } from '../../src/adapters/streams/http-stream-sink.ts';
import { DAY_MS } from '../../src/app/query-projector.ts';
import { type StreamOutcome, StreamService, type StreamServiceOptions } from '../../src/app/streams.ts';
import { parseStreams, type StreamSpec } from '../../src/core/streams/spec.ts';
import { type HecFault, type HecReceiver, startHecReceiver } from '../../src/local/hec-receiver.ts';
import { grow, type MemoryQEnv, prng, queryEnv } from './query-harness.ts';

const LOG = 'slog';
const FAR = Number.MAX_SAFE_INTEGER;

let env: MemoryQEnv;
let hec: HecReceiver;

async function sealAll(): Promise<number> {
  const s = env.sealer();
  for (let i = 0; i < 50; i++) if (!(await s.sealLog(LOG)).more) break;
  return (await env.sealState.read(LOG))?.size ?? 0;
}

function hecSpec(over: Record<string, unknown> = {}): StreamSpec {
  return parseStreams(
    JSON.stringify({
      streams: [
        {
          name: 'siem',
          logId: LOG,
          kind: 'splunk-hec',
          url: hec.url,
          secret: 'hec-token',
          maxEvents: 7,
          ...over,
        },
      ],
    }),
  )[0] as StreamSpec;
}

function service(
  spec: StreamSpec,
  store: MemoryStreamStore,
  extra: Partial<StreamServiceOptions> & { timeoutMs?: number; ack?: boolean } = {},
): StreamService {
  const { timeoutMs, ack, ...rest } = extra;
  const sink = new HttpStreamSink({
    name: spec.name,
    kind: 'splunk-hec',
    url: hec.url,
    token: hec.token,
    clock: env.clock,
    timeoutMs: timeoutMs ?? 2_000,
    ...(ack ? { ack: { sleep: env.clock.sleep, pollMs: 10 } } : {}),
  });
  return new StreamService({
    logs: env.logs,
    sealState: env.sealState,
    store,
    streams: [spec],
    sinks: new Map([[spec.name, sink]]),
    clock: env.clock,
    sleep: env.clock.sleep,
    random: prng(7),
    ...rest,
  });
}

/** The invariants after a run: below the cursor all received; first receipts in log order; nothing unsealed. */
async function checkInvariants(store: MemoryStreamStore, sealed: number): Promise<number> {
  const got = hec.indexes();
  const firsts: number[] = [];
  const seen = new Set<number>();
  for (const i of got)
    if (!seen.has(i)) {
      seen.add(i);
      firsts.push(i);
    }
  expect(firsts).toEqual(firsts.map((_, k) => k)); // 0, 1, 2, … with no gap and no reordering
  expect(Math.max(-1, ...got)).toBeLessThan(sealed);
  const cursor = (await store.readCursor('siem'))?.cursor.nextIndex ?? 0;
  expect(cursor).toBeLessThanOrEqual(firsts.length);
  return cursor;
}

beforeEach(async () => {
  env = queryEnv();
  await env.logRegistry.createLog(LOG);
  hec = await startHecReceiver({});
});
afterEach(async () => {
  await hec.close();
});

describe('StreamService to Splunk HEC', () => {
  it('delivers every sealed record once, in order, and nothing that is not sealed', async () => {
    await grow(env, LOG, { batches: 20, maxPer: 6, maxGapMs: DAY_MS, seed: 1 });
    const sealed = await sealAll();
    await grow(env, LOG, { batches: 5, maxPer: 6, maxGapMs: DAY_MS, seed: 2 }); // committed, not sealed
    const store = new MemoryStreamStore();
    const metrics = new MemoryMetricsSink();
    const s = service(hecSpec(), store, { metrics });
    const o = await s.run('siem', FAR);
    expect(o).toMatchObject({
      status: 'delivered',
      delivered: sealed,
      nextIndex: sealed,
      lagRecords: 0,
      more: false,
    });
    expect(hec.indexes()).toEqual(Array.from({ length: sealed }, (_, i) => i));
    expect(o.chunks).toBe(Math.ceil(sealed / 7));
    expect(metrics.total('StreamRecordsDelivered', { Stream: 'siem' })).toBe(sealed);
    // The envelope is HEC's: epoch-seconds time, sourcetype, the record as the event.
    const first = hec.events[0];
    expect(first?.envelope).toMatchObject({ sourcetype: 'anchorlog:record', source: `anchorlog:${LOG}` });
    expect(first?.envelope.time).toBe(Date.parse(first?.event.receivedAt as string) / 1000);
    expect(first?.event).toMatchObject({ logId: LOG, index: 0 });
    expect(typeof first?.event.leafHash).toBe('string');

    expect((await s.run('siem', FAR)).status).toBe('idle');
    const more = await sealAll();
    const o2 = await s.run('siem', FAR);
    expect(o2.delivered).toBe(more - sealed);
    expect(hec.indexes()).toEqual(Array.from({ length: more }, (_, i) => i));
  });

  it('loses nothing across 5xx, 429 with Retry-After, hangs, resets, refused connections and lost answers', async () => {
    await grow(env, LOG, { batches: 40, maxPer: 5, maxGapMs: DAY_MS, seed: 3 });
    const sealed = await sealAll();
    const store = new MemoryStreamStore();
    // A failure usually ends the run (its retry is not due within 1 s), so the cursor is
    // checked between many runs; a 429's Retry-After (30 s) always does.
    const s = service(hecSpec({ maxAttempts: 100 }), store, { timeoutMs: 300, maxInRunWaitMs: 1_000 });
    const rnd = prng(11);
    const faults: HecFault[] = [
      { kind: 'status', status: 503 },
      { kind: 'status', status: 500 },
      { kind: 'status', status: 429, retryAfter: '30' },
      { kind: 'hang' },
      { kind: 'reset' },
      { kind: 'lost-answer' },
    ];
    // The receiver's schedule: each request fails (one of the faults) or goes through.
    for (let i = 0; i < 80; i++)
      hec.failNext(
        1,
        rnd() < 0.5 ? { kind: 'none' } : (faults[Math.floor(rnd() * faults.length)] as HecFault),
      );
    let runs = 0;
    let refused = 0;
    let cursor = 0;
    while (cursor < sealed && runs < 300) {
      runs++;
      if (rnd() < 0.1) {
        await hec.stopListening();
        const o = await s.run('siem', FAR);
        expect(o.lastError?.code).toBe('NETWORK'); // connection refused
        refused++;
        await hec.listen();
      }
      const before = env.clock.t;
      const o = await s.run('siem', FAR);
      if (o.lastError?.status === 429 && o.status === 'retrying') {
        // Not retried before the receiver's Retry-After.
        expect((await store.readCursor('siem'))?.cursor.nextAttemptAtMs).toBeGreaterThanOrEqual(
          env.clock.t + 29_000,
        );
      }
      expect(env.clock.t).toBeGreaterThanOrEqual(before);
      env.clock.advance(DEFAULT_WAIT);
      cursor = await checkInvariants(store, sealed);
    }
    expect(cursor).toBe(sealed);
    expect([...new Set(hec.indexes())]).toEqual(Array.from({ length: sealed }, (_, i) => i));
    // Duplicates happened (lost answers, timeouts after the events were kept) and only as at-least-once allows.
    expect(hec.indexes().length).toBeGreaterThan(sealed);
    // Every kind of failure was met (the seed's schedule): 5xx, 429, and the connection-level ones.
    for (const status of [500, 503, 429]) expect(hec.answers.get(status) ?? 0).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    expect(await store.listDeadLetters()).toEqual([]);
  }, 120_000);

  it('two concurrent runners: one cursor write wins per version, nothing lost, order kept', async () => {
    await grow(env, LOG, { batches: 30, maxPer: 5, maxGapMs: DAY_MS, seed: 5 });
    const sealed = await sealAll();
    const store = new MemoryStreamStore();
    const a = service(hecSpec(), store);
    const b = service(hecSpec(), store);
    const outcomes: StreamOutcome[] = [];
    for (let i = 0; i < 50; i++) {
      outcomes.push(...(await Promise.all([a.run('siem', FAR), b.run('siem', FAR)])));
      await checkInvariants(store, sealed);
      if ((await store.readCursor('siem'))?.cursor.nextIndex === sealed) break;
    }
    expect((await store.readCursor('siem'))?.cursor.nextIndex).toBe(sealed);
    expect([...new Set(hec.indexes())]).toEqual(Array.from({ length: sealed }, (_, i) => i));
    expect(outcomes.some((o) => o.status === 'lost-race')).toBe(true);
    // The cursor's delivered count is exact even though runners raced (only winners count).
    expect((await store.readCursor('siem'))?.cursor.delivered).toBe(sealed);
  });

  it('dead-letters a chunk after maxAttempts, blocks, alarms, and resumes by itself when the SIEM is back', async () => {
    await grow(env, LOG, { batches: 10, maxPer: 4, maxGapMs: DAY_MS, seed: 6 });
    const sealed = await sealAll();
    const store = new MemoryStreamStore();
    const metrics = new MemoryMetricsSink();
    const s = service(hecSpec({ maxAttempts: 4 }), store, { metrics, maxInRunWaitMs: 0 });
    hec.failNext(1000, { kind: 'status', status: 503 });
    let o: StreamOutcome | undefined;
    for (let i = 0; i < 4; i++) {
      o = await s.run('siem', FAR);
      env.clock.advance(60 * 60_000);
    }
    expect(o).toMatchObject({ status: 'blocked', nextIndex: 0, blockedBy: 'siem/0', lagRecords: sealed });
    expect(o?.lagSeconds).toBeGreaterThan(0);
    const [letter] = await s.listDeadLetters({ state: 'open' });
    expect(letter).toMatchObject({
      id: 'siem/0',
      stream: 'siem',
      logId: LOG,
      fromIndex: 0,
      attempts: 4,
      state: 'open',
    });
    expect(letter?.lastError).toMatchObject({ code: 'HTTP_STATUS', status: 503 });
    expect(metrics.total('StreamDeadLetters', { Stream: 'siem' })).toBe(1);
    expect(metrics.emissions.at(-1)?.metrics.find((m) => m.name === 'StreamBlocked')?.value).toBe(1);
    expect(hec.indexes()).toEqual([]);
    // Blocked: not retried before the cap has passed.
    expect((await s.run('siem', FAR)).status).toBe('blocked');
    // The SIEM is back: the next due run delivers the chunk and everything after it.
    await hec.close();
    hec = await startHecReceiver({ token: hec.token, port: Number(new URL(hec.url).port) });
    // (The first try may meet the old server's closed keep-alive socket: one more blocked round.)
    let healed = o as StreamOutcome;
    for (let i = 0; i < 3 && healed.status !== 'delivered'; i++) {
      env.clock.advance(11 * 60_000);
      healed = await s.run('siem', FAR);
    }
    expect(healed).toMatchObject({ status: 'delivered', nextIndex: sealed });
    expect(healed.blockedBy).toBeUndefined();
    expect((await s.listDeadLetters())[0]).toMatchObject({ id: 'siem/0', state: 'delivered' });
    expect(hec.indexes()).toEqual(Array.from({ length: sealed }, (_, i) => i));
  });

  it('a permanent refusal dead-letters at once; an operator skip moves past exactly that chunk', async () => {
    await grow(env, LOG, { batches: 10, maxPer: 4, maxGapMs: DAY_MS, seed: 8 });
    const sealed = await sealAll();
    const store = new MemoryStreamStore();
    const s = service(hecSpec(), store);
    hec.failNext(1, { kind: 'status', status: 400 });
    const o = await s.run('siem', FAR);
    expect(o).toMatchObject({ status: 'blocked', deadLettered: 1, nextIndex: 0, blockedBy: 'siem/0' });
    const letter = await store.readDeadLetter('siem/0');
    expect(letter?.attempts).toBe(1);
    await expect(s.skip('siem', 'siem/99')).rejects.toMatchObject({ code: 'CONFLICT' });
    const after = await s.skip('siem', 'siem/0');
    expect(after.nextIndex).toBe(letter?.toIndex);
    expect((await store.readDeadLetter('siem/0'))?.state).toBe('skipped');
    const rest = await s.run('siem', FAR);
    expect(rest).toMatchObject({ status: 'delivered', nextIndex: sealed });
    const skipped = letter?.toIndex ?? 0;
    expect(hec.indexes()).toEqual(Array.from({ length: sealed - skipped }, (_, i) => i + skipped));
  });

  it('filters: include and exclude action prefixes, drop fields; the cursor passes filtered records', async () => {
    await grow(env, LOG, { batches: 30, maxPer: 5, maxGapMs: DAY_MS, seed: 9 });
    const sealed = await sealAll();
    const store = new MemoryStreamStore();
    const spec = hecSpec({
      filter: {
        includeActions: ['access', 'tool'],
        excludeActions: ['access.revoke'],
        dropFields: ['event.target', 'submitter'],
      },
    });
    const o = await service(spec, store).run('siem', FAR);
    expect(o.nextIndex).toBe(sealed);
    const events = hec.events.map(
      (e) => e.event as { action?: string; event: { action: string; target?: unknown }; submitter?: unknown },
    );
    expect(events.length).toBeGreaterThan(0);
    expect(events.length).toBe(o.delivered);
    for (const e of events) {
      const a = e.event.action;
      expect(a === 'access' || a.startsWith('access.') || a.startsWith('tool.')).toBe(true);
      expect(a === 'access.revoke').toBe(false);
      expect(e.event.target).toBeUndefined();
      expect(e.submitter).toBeUndefined();
    }
    const idx = hec.indexes();
    expect(idx).toEqual([...idx].sort((x, y) => x - y));
  });

  it('with indexer acknowledgement, a chunk counts once HEC says it is indexed', async () => {
    await grow(env, LOG, { batches: 5, maxPer: 3, maxGapMs: DAY_MS, seed: 10 });
    const sealed = await sealAll();
    hec.ackDelayPolls = 2;
    const store = new MemoryStreamStore();
    const o = await service(hecSpec({ ack: true }), store, { ack: true }).run('siem', FAR);
    expect(o).toMatchObject({ status: 'delivered', nextIndex: sealed });
    expect(hec.indexes()).toEqual(Array.from({ length: sealed }, (_, i) => i));
  });

  it('a wrong token is a permanent failure, dead-lettered with the status and no token in the message', async () => {
    await grow(env, LOG, { batches: 3, maxPer: 3, maxGapMs: DAY_MS, seed: 12 });
    await sealAll();
    const spec = hecSpec();
    const sink = new HttpStreamSink({
      name: 'siem',
      kind: 'splunk-hec',
      url: hec.url,
      token: 'wrong-token',
      clock: env.clock,
    });
    const s = new StreamService({
      logs: env.logs,
      sealState: env.sealState,
      store: new MemoryStreamStore(),
      streams: [spec],
      sinks: new Map([['siem', sink]]),
      clock: env.clock,
      sleep: env.clock.sleep,
      random: prng(1),
    });
    const o = await s.run('siem', FAR);
    expect(o).toMatchObject({ status: 'blocked', lastError: { code: 'HTTP_STATUS', status: 403 } });
    expect(o.lastError?.message).not.toContain('wrong-token');
  });
});

const DEFAULT_WAIT = 11 * 60_000;
