import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/app/errors.ts';
import type { IngestService } from '../../src/app/ingest.ts';
import { toBase64, utf8 } from '../../src/core/bytes.ts';
import { decodeRecord, ZERO_HASH } from '../../src/core/record.ts';
import type { Receipt } from '../../src/ports/log-store.ts';
import { body, checkInvariants, type Env, event, memoryEnv, readAll, testClock } from './ingest-support.ts';

let env: Env;
let svc: IngestService;

beforeAll(async () => {
  env = memoryEnv();
  svc = env.service();
});

async function expectAppError(p: Promise<unknown>, code: string): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe(code);
  return err as AppError;
}

describe('append: happy path', () => {
  it('creates logs idempotently and lists them', async () => {
    expect(await env.logRegistry.createLog('happy')).toEqual({ created: true });
    expect(await env.logRegistry.createLog('happy')).toEqual({ created: false });
    expect(await env.store.listLogs()).toContain('happy');
  });

  it('assigns contiguous indexes, chains every record, and returns matching receipts', async () => {
    await env.logRegistry.createLog('chain');
    const receipts: Receipt[] = [];
    for (const n of [1, 3, 5, 2]) {
      const r = await svc.append({
        logId: 'chain',
        submitter: 'svc:ingest-test',
        body: body(Array.from({ length: n }, () => event())),
      });
      expect(r.status).toBe(201);
      expect(r.replay).toBe(false);
      expect(r.receipts).toHaveLength(n);
      receipts.push(...r.receipts);
    }
    expect(receipts.map((r) => r.index)).toEqual(Array.from({ length: 11 }, (_, i) => i));
    expect(receipts[0]?.prev).toBe(toBase64(ZERO_HASH));
    for (let i = 1; i < receipts.length; i++) expect(receipts[i]?.prev).toBe(receipts[i - 1]?.leafHash);
    const { records, batches } = await checkInvariants(env.store, 'chain', receipts);
    expect([records, batches]).toEqual([11, 4]);
    const rec = decodeRecord((await readAll(env.store, 'chain'))[0]?.records[0]?.bytes ?? new Uint8Array());
    expect(rec).toMatchObject({ v: 1, logId: 'chain', index: 0, submitter: 'svc:ingest-test' });
  });

  it('keeps receivedAt non-decreasing when the clock goes backwards (within the allowed skew)', async () => {
    await env.logRegistry.createLog('clock');
    const clock = testClock(Date.UTC(2026, 5, 1));
    const s = env.service({ clock });
    const a = await s.append({ logId: 'clock', submitter: 'p', body: body([event()]) });
    clock.t -= 4 * 60_000; // four minutes back: a different host with a skewed clock
    const b = await s.append({ logId: 'clock', submitter: 'p', body: body([event(), event()]) });
    expect(b.receipts[0]?.receivedAt).toBe(a.receipts[0]?.receivedAt);
    // An hour back is past MAX_CLOCK_SKEW_MS: carrying the chain's time forward that far is what
    // a forged future time would rely on, so the append is refused (issue #11; it used to be
    // stamped with the later time).
    clock.t -= 3_600_000;
    await expectAppError(s.append({ logId: 'clock', submitter: 'p', body: body([event()]) }), 'INTEGRITY');
    clock.t += 3_600_000 + 7_200_000;
    const c = await s.append({ logId: 'clock', submitter: 'p', body: body([event()]) });
    expect((c.receipts[0]?.receivedAt ?? '') > (a.receipts[0]?.receivedAt ?? '')).toBe(true);
    expect(a.receipts[0]?.receivedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    await checkInvariants(env.store, 'clock', [...a.receipts, ...b.receipts, ...c.receipts]);
  });

  it('accepts a 1,000-event batch of about 1 MiB', async () => {
    await env.logRegistry.createLog('big');
    const pad = 'x'.repeat(780);
    const events = Array.from({ length: 1000 }, (_, i) => event({ metadata: { n: `big-${i}`, pad } }));
    const b = body(events);
    expect(b.length).toBeGreaterThan(900_000);
    expect(b.length).toBeLessThanOrEqual(1024 * 1024);
    const t0 = performance.now();
    const r = await svc.append({ logId: 'big', submitter: 'p', body: b });
    const ms = performance.now() - t0;
    expect(r.receipts).toHaveLength(1000);
    await checkInvariants(env.store, 'big', r.receipts);
    console.log(`1,000-event / ${b.length}-byte batch appended in ${ms.toFixed(0)} ms`);
  });

  it('appends an incompressible ~1.4 MB batch', async () => {
    await env.logRegistry.createLog('parts');
    const rnd = crypto.getRandomValues(new Uint8Array(700));
    const events = Array.from({ length: 1000 }, (_, i) => {
      crypto.getRandomValues(rnd);
      return event({ metadata: { n: `parts-${i}`, noise: toBase64(rnd) } });
    });
    const b = body(events);
    expect(b.length).toBeLessThanOrEqual(2 * 1024 * 1024);
    const r = await svc.append({ logId: 'parts', submitter: 'p', body: b });
    expect(r.receipts).toHaveLength(1000);
    await checkInvariants(env.store, 'parts', r.receipts);
  });
});

describe('append: idempotency', () => {
  it('replays the same key + body with the original receipts; a different body is 409', async () => {
    await env.logRegistry.createLog('idem');
    const req = { logId: 'idem', submitter: 'p', body: body([event(), event()]), idempotencyKey: 'req-1' };
    const first = await svc.append(req);
    expect(first.status).toBe(201);
    const again = await svc.append(req);
    expect(again).toEqual({ status: 200, replay: true, receipts: first.receipts });
    // Another service instance (another Lambda) gets the same answer.
    expect((await env.service().append(req)).receipts).toEqual(first.receipts);
    await expectAppError(svc.append({ ...req, body: body([event()]) }), 'CONFLICT');
    // The key is scoped to the submitter.
    const other = await svc.append({ ...req, submitter: 'q' });
    expect(other.status).toBe(201);
    const { records } = await checkInvariants(env.store, 'idem', [...first.receipts, ...other.receipts], {
      sameEventTwice: true,
    });
    expect(records).toBe(4);
  });

  it('makes a plain retry safe when every event has an id (implicit key)', async () => {
    await env.logRegistry.createLog('ids');
    const events = [event({ id: 'evt-1' }), event({ id: 'evt-2' })];
    const first = await svc.append({ logId: 'ids', submitter: 'p', body: body(events) });
    const again = await svc.append({ logId: 'ids', submitter: 'p', body: body(events) });
    expect(again).toMatchObject({ status: 200, replay: true, receipts: first.receipts });
    // Same ids, one already present: 409 naming it.
    const e = await expectAppError(
      svc.append({
        logId: 'ids',
        submitter: 'p',
        body: body([event({ id: 'evt-2' }), event({ id: 'evt-3' })]),
      }),
      'CONFLICT',
    );
    expect(e.message).toContain('evt-2');
    // The same event re-sent alone (different request, different implicit key) → its original receipt.
    const solo = await svc.append({ logId: 'ids', submitter: 'p', body: body([events[1]]) });
    expect(solo).toMatchObject({ status: 200, replay: true, receipts: [first.receipts[1]] });
    // An id reused for a different event → 409.
    await expectAppError(
      svc.append({ logId: 'ids', submitter: 'p', body: body([event({ id: 'evt-1' })]) }),
      'CONFLICT',
    );
    const { records } = await checkInvariants(env.store, 'ids', first.receipts);
    expect(records).toBe(2);
  });

  it('answers 409 IN_PROGRESS while another request holds the key, and takes over an expired claim', async () => {
    await env.logRegistry.createLog('lease');
    const req = { logId: 'lease', submitter: 'p', body: body([event()]), idempotencyKey: 'k-lease' };
    // A claim left behind by a request that died before committing.
    const held = await env.store.claimKey({
      logId: 'lease',
      keyHash: await keyHashOf(req),
      key: 'k-lease',
      submitter: 'p',
      requestHash: await requestHashOf(req),
      attemptId: 'dead-attempt',
      tipSeqAtClaim: 0,
      expiresAt: env.clock.t + 30_000,
    });
    expect(held.claimed).toBe(true);
    const e = await expectAppError(svc.append(req), 'IN_PROGRESS');
    expect(e.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    env.clock.t += 31_000;
    const r = await svc.append(req);
    expect(r.status).toBe(201);
    expect((await svc.append(req)).replay).toBe(true);
    await checkInvariants(env.store, 'lease', r.receipts);
  });
});

// The key hash and request hash are internal; recompute them the same way.
async function keyHashOf(req: { submitter: string; idempotencyKey: string }): Promise<string> {
  const { sha256 } = await import('../../src/core/hash.ts');
  return toBase64(sha256(utf8(`anchorlog idempotency v1\0explicit\0${req.submitter}\0${req.idempotencyKey}`)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}
async function requestHashOf(req: { submitter: string; body: Uint8Array }): Promise<Uint8Array> {
  const { sha256 } = await import('../../src/core/hash.ts');
  const { concatBytes } = await import('../../src/core/bytes.ts');
  return sha256(concatBytes(utf8(req.submitter), new Uint8Array([0]), req.body));
}

describe('append: bad input is refused whole, nothing stored', () => {
  const withOutcome = (o: string) => JSON.stringify(event()).replace('"outcome":"success"', o);
  const cases: Array<[string, string, () => Uint8Array, string?]> = [
    ['malformed JSON', 'BAD_REQUEST', () => utf8('{"events": [ {')],
    ['not an object', 'BAD_REQUEST', () => utf8('[]')],
    ['empty batch', 'BAD_REQUEST', () => utf8('{"events": []}'), '/events'],
    [
      'wrong type',
      'BAD_REQUEST',
      () => body([event(), event({ actor: { type: 'robot', id: 'x' } })]),
      '/events/1/actor/type',
    ],
    ['missing field', 'BAD_REQUEST', () => body([{ ...event(), outcome: undefined }]), '/events/0/outcome'],
    [
      'duplicate key',
      'BAD_REQUEST',
      () => utf8(`{"events":[${withOutcome('"outcome":"denied","outcome":"success"')}]}`),
      '/events/0/outcome',
    ],
    [
      'lone surrogate',
      'BAD_REQUEST',
      () => utf8(`{"events":[${JSON.stringify(event({ action: 'a' })).replace('"a"', '"\\ud800"')}]}`),
    ],
    [
      'huge number',
      'BAD_REQUEST',
      () =>
        utf8(`{"events":[${JSON.stringify(event()).replace('"metadata":{', '"metadata":{"big":1e400,')}]}`),
    ],
    [
      'invalid UTF-8',
      'BAD_REQUEST',
      () => new Uint8Array([...utf8('{"events":["'), 0xff, 0xfe, ...utf8('"]}')]),
    ],
    ['deep nesting', 'BAD_REQUEST', () => utf8(`{"events":[${'['.repeat(200)}${']'.repeat(200)}]}`)],
    [
      'duplicate ids in one batch',
      'BAD_REQUEST',
      () => body([event({ id: 'same' }), event({ id: 'same' })]),
      '/events/1/id',
    ],
    [
      'oversized event',
      'PAYLOAD_TOO_LARGE',
      () => body([event(), event({ metadata: { big: 'y'.repeat(70_000) } })]),
      '/events/1',
    ],
    ['too many events', 'PAYLOAD_TOO_LARGE', () => body(Array.from({ length: 1001 }, () => ({})))],
    [
      'oversized body',
      'PAYLOAD_TOO_LARGE',
      () => utf8(`{"events":[],"pad":"${'z'.repeat(2 * 1024 * 1024)}"}`),
    ],
  ];
  it.each(cases)('%s → %s', async (_name, code, make, path) => {
    await env.logRegistry.createLog('bad');
    const e = await expectAppError(svc.append({ logId: 'bad', submitter: 'p', body: make() }), code);
    if (path !== undefined) expect(e.path).toBe(path);
    expect((await env.store.readTip('bad')).seq).toBe(0);
  });

  it('unknown log → NOT_FOUND; malformed logId and Idempotency-Key → BAD_REQUEST', async () => {
    await expectAppError(svc.append({ logId: 'nope', submitter: 'p', body: body([event()]) }), 'NOT_FOUND');
    await expectAppError(
      svc.append({ logId: 'Bad_Id', submitter: 'p', body: body([event()]) }),
      'BAD_REQUEST',
    );
    await env.logRegistry.createLog('bad');
    await expectAppError(
      svc.append({ logId: 'bad', submitter: 'p', body: body([event()]), idempotencyKey: 'has space' }),
      'BAD_REQUEST',
    );
    expect((await env.store.readTip('bad')).seq).toBe(0);
  });
});
