/**
 * Issue #11, "whatever ingest accepts, the sealer seals": events at, just
 * below and just above every size, nesting, string and number limit go
 * through real ingest (DynamoDB on moto) and a real seal run (S3 + KMS on
 * moto). Every accepted event must end up under a KMS-signed checkpoint with
 * a verifying inclusion proof; every refused one must get a 4xx whose coded
 * error names the field; the log must never halt.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { KmsNoteSigner } from '../../src/adapters/aws/kms-signer.ts';
import { AppError } from '../../src/app/errors.ts';
import { IngestService } from '../../src/app/ingest.ts';
import { fromBase64, toBase64, utf8 } from '../../src/core/bytes.ts';
import { canonicalBytes, canonicalJson } from '../../src/core/canonical.ts';
import { EVENT_LIMITS } from '../../src/core/event.ts';
import { pointer } from '../../src/core/ijson.ts';
import { MAX_ENTRY_SIZE } from '../../src/core/merkle/entry-bundle.ts';
import { inclusionProof } from '../../src/core/merkle/proof-from-leaves.ts';
import { verifyInclusion } from '../../src/core/merkle/verify.ts';
import { ecdsaP256Verifier } from '../../src/core/note/verifiers.ts';
import { checkpointFromNote } from '../../src/core/note/verify.ts';
import { decodeRecord, leafHash, ZERO_HASH_B64 } from '../../src/core/record.ts';
import { errorResponse } from '../../src/http/errors.ts';
import type { LogStore, Receipt } from '../../src/ports/log-store.ts';
import {
  allRecords,
  checkInvariants,
  createKmsKey,
  type Env,
  kmsSigner,
  makeEnv,
  newLog,
  ORIGIN_PREFIX,
  provision,
  sealer,
} from './seal-harness.ts';

const SUBMITTER = 'svc-limits';
/**
 * The sealer's limit, not ingest's: an entry bundle length-prefixes each
 * record with a uint16 (c2sp.org/tlog-tiles), so this is what can be sealed.
 */
const SEALABLE = MAX_ENTRY_SIZE;
const RECEIVED_AT = '2026-03-01T12:00:00.000Z'; // fixed width: any instant has this length

let env: Env;
let signer: KmsNoteSigner;

beforeAll(async () => {
  env = makeEnv();
  await provision(env);
  signer = await kmsSigner(env, await createKmsKey(env.kms));
});

/** Where and how a refused event must be refused. `stage` orders errors across a batch. */
interface Refusal {
  /** parse = the I-JSON parser (whole body first); validate = event rules; size = the built record. */
  stage: 'parse' | 'validate' | 'size';
  status: 400 | 413;
  code: 'BAD_REQUEST' | 'PAYLOAD_TOO_LARGE';
  /** JSON pointer relative to the event, e.g. '/metadata/v' ('' = the event itself). */
  at: string;
  /** Text the message must contain (the limit it broke). */
  says?: string;
  /** The error's path need only start with `at` (the parser names the container it stopped in). */
  prefix?: boolean;
}

/** One event as JSON text (raw, so numbers keep the literal spelling), and its expected fate. */
interface Case {
  label: string;
  /** fast-check prints this instead of the closures. */
  [fc.toStringMethod]?: () => string;
  /** Event JSON text for a given log index (record size depends on it). */
  text: (logId: string, index: number) => string;
  refused: (logId: string, index: number) => Refusal | undefined;
}

const STAGE_RANK = { parse: 0, validate: 1, size: 2 } as const;

function baseEvent(): Record<string, unknown> {
  return {
    occurredAt: '2026-03-01T11:59:00.000Z',
    actor: { type: 'agent', id: 'agent-7' },
    action: 'tool.call',
    outcome: 'success',
  };
}

/** Canonical size of the record ingest will build for `event` at `index`. */
function recordSize(logId: string, index: number, event: unknown): number {
  return canonicalBytes({
    v: 1,
    logId,
    index,
    receivedAt: RECEIVED_AT,
    submitter: SUBMITTER,
    prev: ZERO_HASH_B64,
    event,
  }).length;
}

/** Canonical UTF-8 bytes of one character inside a JSON string. */
const canonicalCharBytes = (c: string): number => utf8(JSON.stringify(c)).length - 2;

/**
 * An event whose record is exactly `target` bytes at `index`, filled with
 * `fill` (plain, 2-, 3- and 4-byte UTF-8, or characters the canonical form
 * escapes) and topped up with ASCII.
 */
function sizedEvent(logId: string, index: number, target: number, fill: string): Record<string, unknown> {
  const e = { ...baseEvent(), metadata: { pad: '' } };
  const room = target - recordSize(logId, index, e);
  const per = canonicalCharBytes(fill);
  const n = Math.max(0, Math.floor(room / per));
  e.metadata.pad = fill.repeat(n) + 'x'.repeat(room - n * per);
  expect(recordSize(logId, index, e)).toBe(target);
  return e;
}

const FILLS = ['x', 'é', '€', '😀', '"', '\\', '\u0001'];

function sizeCase(delta: number, fill: string): Case {
  return {
    label: `record of ${SEALABLE + delta} bytes filled with ${JSON.stringify(fill)}`,
    text: (logId, index) => JSON.stringify(sizedEvent(logId, index, SEALABLE + delta, fill)),
    refused: () =>
      delta > 0
        ? { stage: 'size', status: 413, code: 'PAYLOAD_TOO_LARGE', at: '', says: String(SEALABLE) }
        : undefined,
  };
}

/** `levels` nested containers (objects or arrays) and the pointer of the one at `level`. */
function nest(
  levels: number,
  kind: 'object' | 'array',
): { value: unknown; pathTo: (level: number) => string[] } {
  let v: unknown = kind === 'object' ? {} : [];
  for (let i = 1; i < levels; i++) v = kind === 'object' ? { a: v } : [v];
  return {
    value: v,
    pathTo: (level) => Array.from({ length: level - 1 }, () => (kind === 'object' ? 'a' : '0')),
  };
}

/** freeform depth counts the metadata object / the changes.before value as level 1. */
function depthCase(levels: number, kind: 'object' | 'array', where: 'metadata' | 'before'): Case {
  const limit = EVENT_LIMITS.freeformDepth;
  const n = nest(where === 'metadata' ? levels - 1 : levels, kind);
  const event = {
    ...baseEvent(),
    ...(where === 'metadata' ? { metadata: { a: n.value } } : { changes: { before: n.value } }),
  };
  const root = where === 'metadata' ? ['metadata', 'a'] : ['changes', 'before'];
  return {
    label: `${where} nested ${levels} levels (${kind}s)`,
    text: () => JSON.stringify(event),
    refused: () => {
      if (levels <= limit) return undefined;
      // The body adds 3 levels (body, events, event) above metadata/changes,
      // so the parser's bound trips first for very deep values.
      const bodyLevelsAbove = where === 'metadata' ? 3 : 4;
      if (levels + bodyLevelsAbove > 64)
        return { stage: 'parse', status: 400, code: 'BAD_REQUEST', at: `/${root[0]}`, prefix: true };
      const first = where === 'metadata' ? limit + 1 - 1 : limit + 1; // level (inside root) that breaks the limit
      const at = pointer('', ...root, ...n.pathTo(first));
      return { stage: 'validate', status: 400, code: 'BAD_REQUEST', at, says: String(limit) };
    },
  };
}

type StringField = 'actor.id' | 'actor.name' | 'onBehalfOf.id' | 'target.id' | 'userAgent' | 'requestId';
const STRING_FIELDS: Record<StringField, { max: number; at: string }> = {
  'actor.id': { max: EVENT_LIMITS.principalId, at: '/actor/id' },
  'actor.name': { max: EVENT_LIMITS.name, at: '/actor/name' },
  'onBehalfOf.id': { max: EVENT_LIMITS.principalId, at: '/actor/onBehalfOf/id' },
  'target.id': { max: EVENT_LIMITS.targetId, at: '/target/id' },
  userAgent: { max: EVENT_LIMITS.userAgent, at: '/context/userAgent' },
  requestId: { max: EVENT_LIMITS.contextId, at: '/context/requestId' },
};

/** A string of exactly `units` UTF-16 code units made of astral characters (2 units, 4 UTF-8 bytes) and ASCII. */
function astralString(units: number, astral: number): string {
  const pairs = Math.min(astral, Math.floor(units / 2));
  return '😀'.repeat(pairs) + 'y'.repeat(units - 2 * pairs);
}

function stringCase(field: StringField, delta: number, astral: number): Case {
  const { max, at } = STRING_FIELDS[field];
  const s = astralString(max + delta, astral);
  const e = baseEvent() as Record<string, Record<string, unknown>>;
  const actor = e.actor as Record<string, unknown>;
  if (field === 'actor.id') actor.id = s;
  if (field === 'actor.name') actor.name = s;
  if (field === 'onBehalfOf.id') actor.onBehalfOf = { type: 'human', id: s };
  if (field === 'target.id') e.target = { type: 'tool', id: s };
  if (field === 'userAgent') e.context = { userAgent: s };
  if (field === 'requestId') e.context = { requestId: s };
  return {
    label: `${field} of ${s.length} UTF-16 units (${[...s].length} code points, ${utf8(s).length} bytes)`,
    text: () => JSON.stringify(e),
    refused: () =>
      s.length > max
        ? { stage: 'validate', status: 400, code: 'BAD_REQUEST', at, says: String(max) }
        : undefined,
  };
}

/** Literals whose decimal value is exactly what RFC 8785 will write. */
const EXACT_NUMBERS = [
  '9007199254740991',
  '-9007199254740991',
  '5e-324',
  '-5e-324',
  '1.7976931348623157e308',
  '-1.7976931348623157e308',
  '2.2250738585072014e-308',
  '-0',
  '0.10',
  '1e2',
  '1E+21',
  '100e-2',
  '0e400',
  '123456789012345680000',
];
/** Literals the canonical form would change: refused with the field's pointer. */
const INEXACT_NUMBERS = [
  '9007199254740993',
  '-9007199254740993',
  '1.00000000000000011',
  '1e400',
  '-1e400',
  '1e-400',
  '2.4703282292062328e-324',
  '18446744073709551616', // 2^64 is a double, but RFC 8785 writes it 18446744073709552000
  '0.1000000000000000055511151231257827',
];

function numberCase(literal: string): Case {
  const exact = EXACT_NUMBERS.includes(literal);
  return {
    label: `number ${literal}`,
    text: () => JSON.stringify({ ...baseEvent(), metadata: { v: '@N@' } }).replace('"@N@"', literal),
    refused: () => {
      if (exact) return undefined;
      const range = !Number.isFinite(Number(literal)) || Number(literal) === 0;
      const says = range ? 'IEEE-754 double' : 'cannot be stored exactly';
      return { stage: 'parse', status: 400, code: 'BAD_REQUEST', at: '/metadata/v', says };
    },
  };
}

const plainCase: Case = {
  label: 'plain event',
  text: () => JSON.stringify({ ...baseEvent(), metadata: { plain: true } }),
  refused: () => undefined,
};

/** Every edge once: the deterministic floor under the property test. */
function everyEdge(): Case[] {
  const out: Case[] = [plainCase];
  for (const d of [-1, 0, 1, 2]) out.push(sizeCase(d, 'x'));
  for (const f of FILLS.slice(1)) out.push(sizeCase(0, f), sizeCase(1, f));
  const limit = EVENT_LIMITS.freeformDepth;
  for (const where of ['metadata', 'before'] as const)
    for (const kind of ['object', 'array'] as const)
      for (const levels of [limit - 1, limit, limit + 1]) out.push(depthCase(levels, kind, where));
  out.push(depthCase(100, 'array', 'metadata'));
  for (const field of Object.keys(STRING_FIELDS) as StringField[])
    for (const d of [-1, 0, 1]) out.push(stringCase(field, d, 1_000));
  for (const n of [...EXACT_NUMBERS, ...INEXACT_NUMBERS]) out.push(numberCase(n));
  return out;
}

/** Prints as its label in fast-check's counterexamples. */
const named = (c: Case): Case => ({ ...c, [fc.toStringMethod]: () => c.label });

const anyCase: fc.Arbitrary<Case> = fc
  .oneof(
    fc.tuple(fc.integer({ min: -2, max: 2 }), fc.constantFrom(...FILLS)).map(([d, f]) => sizeCase(d, f)),
    fc
      .tuple(
        fc.integer({ min: EVENT_LIMITS.freeformDepth - 1, max: EVENT_LIMITS.freeformDepth + 1 }),
        fc.constantFrom('object' as const, 'array' as const),
        fc.constantFrom('metadata' as const, 'before' as const),
      )
      .map(([l, k, w]) => depthCase(l, k, w)),
    fc
      .tuple(
        fc.constantFrom(...(Object.keys(STRING_FIELDS) as StringField[])),
        fc.integer({ min: -2, max: 1 }),
        fc.nat(1024),
      )
      .map(([f, d, a]) => stringCase(f, d, a)),
    fc.constantFrom(...EXACT_NUMBERS, ...INEXACT_NUMBERS).map(numberCase),
    fc.constant(plainCase),
  )
  .map(named);

interface Outcome {
  accepted: Array<{ receipt: Receipt; text: string }>;
}

/**
 * Posts `batches` to `logId` one request each and checks every answer
 * against the cases' oracle. Returns what was accepted.
 */
async function ingestAll(logId: string, batches: readonly Case[][]): Promise<Outcome> {
  const accepted: Outcome['accepted'] = [];
  for (const batch of batches) {
    const next = accepted.length;
    const texts = batch.map((c, i) => c.text(logId, next + i));
    const refusals = batch
      .map((c, i) => ({ i, r: c.refused(logId, next + i) }))
      .filter((x): x is { i: number; r: Refusal } => x.r !== undefined)
      .sort((a, b) => STAGE_RANK[a.r.stage] - STAGE_RANK[b.r.stage] || a.i - b.i);
    env.clock.t += 1;
    const body = utf8(`{"events":[${texts.join(',')}]}`);
    const labels = batch.map((c) => c.label).join(' | ');
    let result: Awaited<ReturnType<typeof env.ingest.append>> | undefined;
    let error: unknown;
    try {
      result = await env.ingest.append({ logId, submitter: SUBMITTER, body });
    } catch (e) {
      error = e;
    }
    const first = refusals[0];
    if (first === undefined) {
      expect(error, `refused: ${labels}: ${(error as Error | undefined)?.message}`).toBeUndefined();
      expect(result?.status).toBe(201);
      result?.receipts.forEach((receipt, i) => {
        accepted.push({ receipt, text: texts[i] as string });
      });
      continue;
    }
    expect(result, `accepted (${result?.status}) although ${labels} must be refused`).toBeUndefined();
    expect(error).toBeInstanceOf(AppError);
    const res = errorResponse(error, 'test');
    const payload = JSON.parse(typeof res.body === 'string' ? res.body : '') as {
      error: { code: string; message: string; path?: string };
    };
    const want = `/events/${first.i}${first.r.at}`;
    expect({ status: res.status, code: payload.error.code }, labels).toEqual({
      status: first.r.status,
      code: first.r.code,
    });
    if (first.r.prefix)
      expect(payload.error.path?.startsWith(want), `${payload.error.path} is not under ${want}`).toBe(true);
    else expect(payload.error.path, payload.error.message).toBe(want);
    if (first.r.says) expect(payload.error.message).toContain(first.r.says);
  }
  return { accepted };
}

/**
 * Seals `logId` on the emulator and checks, with the core verifiers only:
 * the log is not halted; the KMS-signed checkpoint verifies and covers
 * exactly the accepted events; each accepted event's record is the leaf its
 * receipt names, with an inclusion proof to the signed root; and each stored
 * event is, canonically, the event that was sent.
 */
async function sealAndVerify(logId: string, outcome: Outcome): Promise<void> {
  const run = await sealer(env, signer).sealLog(logId);
  expect(run.status).toBe(outcome.accepted.length > 0 ? 'sealed' : 'idle');
  const size = await checkInvariants(env, logId, signer); // not halted; signature; root from the entry bundles
  expect(size).toBe(outcome.accepted.length);
  const st = await env.state.read(logId);
  const origin = `${ORIGIN_PREFIX}/${logId}`;
  const cp = checkpointFromNote(st?.checkpoint ?? '', origin, [
    ecdsaP256Verifier(origin, signer.publicKeySpki),
  ]);
  const records = await allRecords(env, logId);
  const leaves = records.map(leafHash);
  for (const { receipt, text } of outcome.accepted) {
    const bytes = records[receipt.index] as Uint8Array;
    expect(bytes.length).toBeLessThanOrEqual(SEALABLE);
    expect(toBase64(leafHash(bytes))).toBe(receipt.leafHash);
    verifyInclusion(
      fromBase64(receipt.leafHash),
      receipt.index,
      cp.size,
      inclusionProof(leaves, receipt.index, cp.size),
      cp.rootHash,
    );
    // What was written is what is stored (numbers included: no silent rounding).
    expect(canonicalJson(decodeRecord(bytes).event)).toBe(canonicalJson(JSON.parse(text)));
  }
}

describe('whatever ingest accepts, the sealer seals (issue #11)', () => {
  it('a record of exactly 65,536 bytes is refused with 413 naming the event; 65,535 is sealed', async () => {
    await newLog(env, 'lim-65536');
    const out = await ingestAll('lim-65536', [
      [sizeCase(0, 'x')],
      [plainCase, sizeCase(1, 'x')],
      [plainCase],
    ]);
    expect(out.accepted).toHaveLength(2);
    await sealAndVerify('lim-65536', out);
  });

  it('a log that already holds a 65,536-byte record (written by an earlier version) halts naming it', async () => {
    // What docs/operations.md describes: earlier ingest stored such a record.
    // The sealed prefix stays sealed; the halt reason names the record and size.
    await newLog(env, 'lim-legacy');
    const first = await ingestAll('lim-legacy', [[plainCase]]);
    expect((await sealer(env, signer).sealLog('lim-legacy')).size).toBe(1);
    const tip = await env.logs.readTip('lim-legacy');
    const event = sizedEvent('lim-legacy', 1, SEALABLE + 1, 'x');
    const bytes = canonicalBytes({
      v: 1,
      logId: 'lim-legacy',
      index: 1,
      receivedAt: tip.lastReceivedAt as string,
      submitter: SUBMITTER,
      prev: toBase64(tip.lastLeafHash),
      event,
    });
    expect(bytes.length).toBe(SEALABLE + 1);
    const committed = await env.logs.commitBatch({
      logId: 'lim-legacy',
      seq: tip.seq + 1,
      firstIndex: 1,
      count: 1,
      prevHash: tip.lastLeafHash,
      lastLeafHash: leafHash(bytes),
      receivedAt: tip.lastReceivedAt as string,
      submitter: SUBMITTER,
      attemptId: 'legacy-ingest',
      tryNumber: 1,
      records: [bytes],
    });
    expect(committed.committed).toBe(true);
    const err = await sealer(env, signer)
      .sealLog('lim-legacy')
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('INTEGRITY');
    const st = await env.state.read('lim-legacy');
    // Nothing else is wrong with it: only its size halts the log.
    expect(st?.halted).toMatch(/record 1: record is 65536 bytes; limit 65535/);
    expect(st?.size).toBe(1);
    expect(first.accepted).toHaveLength(1);
  });

  it('an event that fits at the tip it was built for but not at the tip it lands on is refused, not stored', async () => {
    // The record's index grows by a digit at 10: an event of exactly the limit
    // at index 9 is one byte over at index 10. Another writer takes index 9
    // between our build and our commit; the rebuild must catch it.
    await newLog(env, 'lim-race');
    const nine = Array.from({ length: 9 }, () => JSON.parse(plainCase.text('lim-race', 0)) as unknown);
    await env.ingest.append({
      logId: 'lim-race',
      submitter: SUBMITTER,
      body: utf8(JSON.stringify({ events: nine })),
    });
    const other = new IngestService({ store: env.logs, clock: env.clock, sleep: async () => {} });
    let raced = false;
    const racing = new Proxy(env.logs, {
      get(target, key) {
        if (key === 'commitBatch')
          return async (batch: Parameters<LogStore['commitBatch']>[0]) => {
            if (!raced) {
              raced = true;
              const r = await other.append({
                logId: 'lim-race',
                submitter: SUBMITTER,
                body: utf8(`{"events":[${plainCase.text('lim-race', 9)}]}`),
              });
              expect(r.receipts[0]?.index).toBe(9);
            }
            return target.commitBatch(batch);
          };
        const v = Reflect.get(target, key, target) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const mine = new IngestService({ store: racing, clock: env.clock, sleep: async () => {} });
    const text = JSON.stringify(sizedEvent('lim-race', 9, SEALABLE, 'x'));
    const err = await mine
      .append({ logId: 'lim-race', submitter: SUBMITTER, body: utf8(`{"events":[${text}]}`) })
      .then(
        (r) => r,
        (e: unknown) => e,
      );
    expect(raced).toBe(true);
    expect(err).toBeInstanceOf(AppError);
    expect(errorResponse(err, 'test').status).toBe(413);
    expect((err as AppError).path).toBe('/events/0');
    expect((err as AppError).message).toContain(`${SEALABLE + 1} bytes`);
    const run = await sealer(env, signer).sealLog('lim-race');
    expect(run.size).toBe(10);
    expect(await checkInvariants(env, 'lim-race', signer)).toBe(10);
  });

  it('every limit edge, once, one event per request', async () => {
    await newLog(env, 'lim-edges');
    const out = await ingestAll(
      'lim-edges',
      everyEdge().map((c) => [c]),
    );
    await sealAndVerify('lim-edges', out);
  });

  it('property: random batches of edge events are either sealed and provable or refused naming the field', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(anyCase, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 4 }),
        async (batches) => {
          const logId = `lim-p${++run}`;
          await newLog(env, logId);
          // Always at least one accepted event, so every run seals something.
          const out = await ingestAll(logId, [[plainCase], ...batches]);
          await sealAndVerify(logId, out);
        },
      ),
      { numRuns: 8, seed: 1101 },
    );
  });
});
