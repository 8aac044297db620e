/**
 * The byte scanner (src/core/record-scan.ts) against the reference
 * decodeRecord, which stays the oracle: on random valid records (every
 * optional field, free-form metadata and changes, non-ASCII names, escapes)
 * and on random single-byte and single-field mutations of them (duplicate
 * names, lone surrogates, number forms, key order, whitespace, escapes,
 * limits), the scanner must never accept what decodeRecord refuses, and what
 * it accepts must have decodeRecord's index, logId, prev and receivedAt. The
 * record check chunk.ts runs (scanner, else decodeRecordFast) must reach the
 * reference's verdict: accept, or the same error code and message.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toBase64, utf8 } from '../../src/core/bytes.ts';
import type { AuditEvent } from '../../src/core/event.ts';
import type { JsonObject, JsonValue } from '../../src/core/ijson.ts';
import {
  decodeRecord,
  decodeRecordFast,
  encodeRecord,
  type LogRecord,
  ZERO_HASH_B64,
} from '../../src/core/record.ts';
import { asciiText, newRecordFields, scanRecord } from '../../src/core/record-scan.ts';

type Fields = { index: number; logId: string; prev: string; receivedAt: string };
type Verdict = { ok: true; fields: Fields } | { ok: false; code: string; message: string };

const fieldsOf = (r: LogRecord): Fields => ({
  index: r.index,
  logId: r.logId,
  prev: r.prev,
  receivedAt: r.receivedAt,
});

function reference(b: Uint8Array): Verdict {
  try {
    return { ok: true, fields: fieldsOf(decodeRecord(b)) };
  } catch (e) {
    const err = e as { code?: string; message: string };
    return { ok: false, code: String(err.code), message: err.message };
  }
}

/** What chunk.ts does per record: the scanner, else decodeRecordFast (which falls back to decodeRecord). */
function newCheck(b: Uint8Array): Verdict {
  const f = newRecordFields();
  if (scanRecord(b, f))
    return {
      ok: true,
      fields: {
        index: f.index,
        logId: asciiText(b, f.logIdStart, f.logIdEnd),
        prev: asciiText(b, f.prevStart, f.prevStart + 44),
        receivedAt: asciiText(b, f.receivedAtStart, f.receivedAtStart + 24),
      },
    };
  try {
    return { ok: true, fields: fieldsOf(decodeRecordFast(b)) };
  } catch (e) {
    const err = e as { code?: string; message: string };
    return { ok: false, code: String(err.code), message: err.message };
  }
}

/** The property: scanner sound, and the new check's verdict is the reference's. Returns whether the scanner accepted. */
function agree(b: Uint8Array): boolean {
  const ref = reference(b);
  const scanned = scanRecord(b, newRecordFields());
  if (scanned) expect(ref.ok, 'scanner accepted what decodeRecord refuses').toBe(true);
  expect(newCheck(b)).toStrictEqual(ref);
  return scanned;
}

const text = fc.string({ unit: 'binary', maxLength: 12 });
const nameText = fc.oneof(
  fc.string({ minLength: 1, maxLength: 10 }),
  fc.constantFrom('Ägent «five» 🤖', 'a"b', 'back\\slash', 'x\u0085y', 'del\u007f', '日本語'),
);
const hash = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(toBase64);
const stamp = fc.integer({ min: 0, max: 4_102_444_800_000 }).map((ms) => new Date(ms).toISOString());
const freeform: fc.Arbitrary<JsonValue> = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<JsonValue>;
const metadata = fc
  .dictionary(fc.oneof(fc.string({ maxLength: 6 }), text), freeform, { maxKeys: 4 })
  .map((m) => m as JsonObject);

const event = (
  nameText: fc.Arbitrary<string>,
  metadata: fc.Arbitrary<JsonObject>,
  free: fc.Arbitrary<JsonValue>,
): fc.Arbitrary<AuditEvent> =>
  fc
    .record(
      {
        occurredAt: fc.oneof(stamp, fc.constantFrom('2025-06-01T00:00:07.123456Z', '2025-06-01T00:00:07Z')),
        actor: fc.record(
          {
            type: fc.constantFrom('human', 'agent', 'service', 'system'),
            id: nameText,
            name: nameText,
            onBehalfOf: fc.record(
              { type: fc.constantFrom('human', 'agent'), id: nameText, name: nameText },
              { requiredKeys: ['type', 'id'] },
            ),
          },
          { requiredKeys: ['type', 'id'] },
        ),
        action: fc.constantFrom('tool.call', 'a', 'agent.task.submit', 'x_1.y2'),
        target: fc.record({ type: nameText, id: nameText, name: nameText }, { requiredKeys: ['type', 'id'] }),
        outcome: fc.constantFrom('success', 'failure', 'denied'),
        id: fc.constantFrom('evt-1', 'A!~z', 'x'),
        changes: fc.record({ before: free, after: free }, { requiredKeys: ['before'] }),
        context: fc.record(
          {
            requestId: nameText,
            sessionId: nameText,
            traceId: nameText,
            ip: fc.constantFrom('10.0.0.1', '::1', '2001:db8::8a2e:370:7334', '255.255.255.255'),
            userAgent: nameText,
          },
          { requiredKeys: [] },
        ),
        metadata,
        schemaVersion: fc.integer({ min: 1, max: 5 }),
        producer: fc.record(
          {
            stream: fc.constantFrom('s-1', 'svc!'),
            seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
            epoch: fc.nat(),
          },
          { requiredKeys: ['stream', 'seq'] },
        ),
        signature: fc.record({
          keyId: fc.constant('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA0'),
          alg: fc.constantFrom('Ed25519', 'ES256'),
          sig: fc.constant(`${'B'.repeat(85)}w`),
        }),
      },
      { requiredKeys: ['occurredAt', 'actor', 'action', 'outcome'] },
    )
    .map((e) => e as AuditEvent);

/** Valid canonical records (skipping values encodeRecord refuses, e.g. over a limit). */
const recordsOf = (
  nameText: fc.Arbitrary<string>,
  metadata: fc.Arbitrary<JsonObject>,
  free: fc.Arbitrary<JsonValue>,
): fc.Arbitrary<Uint8Array> =>
  fc
    .record({
      index: fc.oneof(fc.constant(0), fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER)),
      logId: fc.constantFrom('tenant-a', 'a', 'b-2', 'x'.repeat(63)),
      receivedAt: stamp,
      submitter: nameText,
      prev: hash,
      event: event(nameText, metadata, free),
    })
    .map((r) => {
      try {
        return encodeRecord({ v: 1, ...r, prev: r.index === 0 ? ZERO_HASH_B64 : r.prev });
      } catch {
        return undefined;
      }
    })
    .filter((b): b is Uint8Array => b !== undefined);

const records = recordsOf(nameText, metadata, freeform);

/**
 * Records inside what the scanner claims to prove itself: names without `"`, `\\`
 * or DEL (non-ASCII is fine), metadata keys of ASCII letters (values anything).
 */
const plainName = fc
  .array(fc.constantFrom(...'abcXYZ019 .-_:äé日🤖\u0085'.split(/(?:)/u)), { minLength: 1, maxLength: 10 })
  .map((cs) => cs.join(''));
const asciiKeys = (v: JsonValue): JsonValue =>
  Array.isArray(v)
    ? v.map(asciiKeys)
    : v !== null && typeof v === 'object'
      ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/[^a-z]/g, 'q'), asciiKeys(x)]))
      : v;
const plainRecords = recordsOf(
  plainName,
  metadata.map((m) => asciiKeys(m) as JsonObject),
  freeform.map(asciiKeys),
);

const dec = new TextDecoder();

/** Text edits that keep JSON mostly valid but break canonical form or a rule. */
const EDITS: ReadonlyArray<[string, (t: string, at: number) => string]> = [
  ['space after a colon', (t, at) => replaceNth(t, ':', at, ': ')],
  ['newline before a brace', (t, at) => replaceNth(t, '}', at, '\n}')],
  ['BOM', (t) => `\uFEFF${t}`],
  ['duplicate outcome', (t) => t.replace(/"outcome":"(\w+)"/, '"outcome":"$1","outcome":"$1"')],
  ['duplicate index', (t) => t.replace(/"index":(\d+)/, '"index":$1,"index":$1')],
  ['duplicate metadata key', (t) => t.replace('"metadata":{', '"metadata":{"k":1,"k":1,')],
  ['lone high surrogate escape', (t) => t.replace(/"id":"/, '"id":"\\ud800')],
  ['lone surrogate in metadata', (t) => t.replace('"metadata":{', '"metadata":{"a":"\\udc00",')],
  ['escaped slash', (t) => t.replace('"action":"', '"action":"\\/')],
  ['escaped letter in metadata', (t) => t.replace('"metadata":{', '"metadata":{"a":"\\u0041",')],
  ['uppercase hex escape', (t) => t.replace('"metadata":{', '"metadata":{"a":"\\u001F",')],
  ['\\u000a instead of \\n', (t) => t.replace('"metadata":{', '"metadata":{"a":"\\u000a",')],
  ['raw control in a string', (t) => t.replace('"metadata":{', '"metadata":{"a":"\u0001",')],
  ['index 7.0', (t) => t.replace(/"index":(\d+)/, '"index":$1.0')],
  ['index 1e0', (t) => t.replace(/"index":(\d+)/, '"index":$1e0')],
  ['index leading zero', (t) => t.replace(/"index":(\d+)/, '"index":0$1')],
  ['negative index', (t) => t.replace(/"index":(\d+)/, '"index":-$1')],
  ['inexact index', (t) => t.replace(/"index":(\d+)/, '"index":9007199254740993')],
  ['v as 1.0', (t) => t.replace('"v":1', '"v":1.0')],
  [
    'number forms in metadata',
    (t, at) => t.replace('"metadata":{', `"metadata":{"a":${NUMS[at % NUMS.length]},`),
  ],
  ['swapped record keys', (t) => t.replace(/"submitter":("[^"]*"),"v":1/, '"v":1,"submitter":$1')],
  ['swapped event keys', (t) => t.replace(/"action":("[^"]*"),"actor":/, '"actor":')],
  ['unsorted metadata keys', (t) => t.replace('"metadata":{', '"metadata":{"b":1,"a":2,')],
  ['__proto__ in metadata', (t) => t.replace('"metadata":{', '"metadata":{"__proto__":{},')],
  ['unknown event field', (t) => t.replace('"action":', '"aa":1,"action":')],
  ['unknown record field', (t) => t.replace('"v":1}', '"v":1,"w":2}')],
  [
    'empty changes',
    (t) => t.replace(/"changes":\{.*?\},"(context|id|metadata|occurredAt)"/, '"changes":{},"$1"'),
  ],
  ['empty actor id', (t) => t.replace(/"actor":\{"id":"[^"]*"/, '"actor":{"id":""')],
  ['DEL in submitter', (t) => t.replace('"submitter":"', '"submitter":"\u007f')],
  ['bad action', (t) => t.replace('"action":"', '"action":"A')],
  ['trailing dot action', (t) => t.replace(/"action":"([^"]*)"/, '"action":"$1."')],
  ['bad receivedAt day', (t) => t.replace(/"receivedAt":"(\d{4})-(\d\d)-\d\d/, '"receivedAt":"$1-02-30')],
  ['bad occurredAt', (t) => t.replace(/"occurredAt":"[^"]*"/, '"occurredAt":"2025-13-01T00:00:00.000Z"')],
  ['logId uppercase', (t) => t.replace('"logId":"', '"logId":"A')],
  ['logId leading dash', (t) => t.replace('"logId":"', '"logId":"-')],
  ['prev non-canonical bits', (t) => t.replace(/"prev":"([^"]{42})."/, '"prev":"$1B="')],
  [
    'prev of record 0 not zero',
    (t) => t.replace(/"index":0,"logId":"([^"]*)","prev":"A/, '"index":0,"logId":"$1","prev":"B'),
  ],
  ['deep metadata', (t) => t.replace('"metadata":{', `"metadata":{"d":${'['.repeat(33)}${']'.repeat(33)},`)],
  [
    'metadata at the depth limit',
    (t) => t.replace('"metadata":{', `"metadata":{"d":${'['.repeat(31)}${']'.repeat(31)},`),
  ],
  ['truncated', (t, at) => t.slice(0, Math.max(1, t.length - 1 - (at % 40)))],
  ['trailing space', (t) => `${t} `],
  ['bad IP', (t) => t.replace(/"ip":"[^"]*"/, '"ip":"999.1.1.1"')],
  ['signature alg', (t) => t.replace('"alg":"E', '"alg":"e')],
  ['producer seq 0', (t) => t.replace(/"seq":\d+/, '"seq":0')],
  ['schemaVersion 0', (t) => t.replace(/"schemaVersion":\d+/, '"schemaVersion":0')],
];
const NUMS = [
  '1',
  '-0',
  '0.5',
  '1e21',
  '1e+21',
  '1E+21',
  '0.10',
  '1e-7',
  '1e-400',
  '1e400',
  '00',
  '-',
  '1.',
  '.5',
  '123456789012345678901234567890',
];

function replaceNth(t: string, what: string, n: number, by: string): string {
  const parts = t.split(what);
  if (parts.length < 2) return t;
  const k = n % (parts.length - 1);
  return `${parts.slice(0, k + 1).join(what)}${by}${parts.slice(k + 1).join(what)}`;
}

describe('record scanner: sound against decodeRecord, same verdict as the reference', () => {
  it('valid records: accepted by the reference and by the new check with the same fields', () => {
    fc.assert(
      fc.property(records, (b) => {
        expect(reference(b).ok).toBe(true);
        agree(b);
      }),
      { numRuns: 1000 },
    );
  });

  it('valid records without escapes in names or odd metadata keys: all proved by the scanner itself', () => {
    fc.assert(
      fc.property(plainRecords, (b) => {
        expect(reference(b).ok).toBe(true);
        expect(agree(b), dec.decode(b)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('records like the benchmark and the export path write are all proved by the scanner', () => {
    const r: LogRecord = {
      v: 1,
      logId: 'bench-bundle',
      index: 12,
      receivedAt: '2025-01-01T00:01:00.000Z',
      submitter: 'svc-5',
      prev: 'IO1ZOUuTY6vrfIbr04W7DMi2YIv8ue8obvXBFBBm8mE=',
      event: {
        occurredAt: '2025-01-01T00:01:00.000Z',
        actor: { type: 'agent', id: 'actor-12', name: 'Ägent «five» 🤖' },
        action: 'config.update',
        target: { type: 'resource', id: 'res-1', name: 'resource 12' },
        outcome: 'success',
        context: { requestId: 'req-0000000c', sessionId: 's-12', ip: '10.1.2.3' },
        metadata: { n: [1, 2.5, -3e-7, true, null, 'x\ny'], nested: { a: {}, b: [] } },
      },
    };
    expect(agree(encodeRecord(r))).toBe(true);
    expect(agree(encodeRecord({ ...r, index: 0, prev: ZERO_HASH_B64 }))).toBe(true);
  });

  it.each(EDITS)('%s', (_name, edit) => {
    fc.assert(
      fc.property(fc.oneof(records, plainRecords), fc.nat(), (b, at) => {
        agree(utf8(edit(dec.decode(b), at)));
      }),
      { numRuns: 60 },
    );
  });

  it('random single-byte edits and random bytes', () => {
    fc.assert(
      fc.property(
        fc.oneof(records, plainRecords),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        (b, pos, x) => {
          const c = b.slice();
          c[pos % c.length] = x;
          agree(c);
        },
      ),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(plainRecords, fc.nat(), (b, pos) => {
        // Delete one byte, or duplicate one.
        const k = pos % b.length;
        agree(new Uint8Array([...b.subarray(0, k), ...b.subarray(k + 1)]));
        agree(new Uint8Array([...b.subarray(0, k + 1), ...b.subarray(k)]));
      }),
      { numRuns: 1000 },
    );
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => void agree(b)));
  });

  it('invalid UTF-8 and UTF-8-encoded surrogates in a name', () => {
    const t = dec.decode(
      encodeRecord({
        v: 1,
        logId: 'a',
        index: 1,
        receivedAt: '2025-01-01T00:00:00.000Z',
        submitter: 'x',
        prev: 'IO1ZOUuTY6vrfIbr04W7DMi2YIv8ue8obvXBFBBm8mE=',
        event: {
          occurredAt: '2025-01-01T00:00:00.000Z',
          actor: { type: 'agent', id: 'Q' },
          action: 'a',
          outcome: 'success',
          metadata: { s: 'Q' },
        },
      }),
    );
    for (const at of [t.indexOf('"Q"') + 1, t.lastIndexOf('"Q"') + 1])
      for (const seq of [
        [0xed, 0xa0, 0x80],
        [0xc0, 0x80],
        [0xff],
        [0xe2, 0x82],
        [0xf4, 0x90, 0x80, 0x80],
        [0xe0, 0x80, 0x80],
        [0xf0, 0x80, 0x80, 0x80],
        [0xc3, 0xa4],
        [0xf0, 0x9f, 0xa4, 0x96],
      ]) {
        const b = utf8(t);
        const out = new Uint8Array(b.length - 1 + seq.length);
        out.set(b.subarray(0, at));
        out.set(seq, at);
        out.set(b.subarray(at + 1), at + seq.length);
        agree(out);
      }
  });

  it('length limits counted in UTF-16 code units, as validateEvent counts them', () => {
    const make = (id: string) =>
      utf8(
        `{"event":{"action":"a","actor":{"id":"${id}","type":"agent"},"occurredAt":"2025-01-01T00:00:00.000Z","outcome":"success"},"index":1,"logId":"a","prev":"IO1ZOUuTY6vrfIbr04W7DMi2YIv8ue8obvXBFBBm8mE=","receivedAt":"2025-01-01T00:00:00.000Z","submitter":"x","v":1}`,
      );
    expect(agree(make('x'.repeat(256)))).toBe(true);
    expect(agree(make('x'.repeat(257)))).toBe(false);
    expect(agree(make('🤖'.repeat(128)))).toBe(true);
    expect(agree(make(`${'🤖'.repeat(128)}x`))).toBe(false);
    expect(agree(make(`${'ä'.repeat(256)}`))).toBe(true);
  });
});
