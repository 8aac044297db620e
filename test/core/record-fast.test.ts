/**
 * The fast record path (decodeCanonicalRecordFast / decodeRecordFast,
 * src/core/record.ts) against the reference decodeRecord: on valid records
 * and on every kind of non-canonical or non-I-JSON text JSON.parse would hide
 * (duplicate names, lone surrogates, number forms, whitespace, key order,
 * escapes, BOM, bad UTF-8), the two must reach the same verdict — the same
 * record, or the same error code and message — and the fast half must never
 * accept what the reference refuses. Also the two shortcuts it relies on
 * (isHash, the fixed-width parseUtcTimestamp) against what they replace.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64, utf8 } from '../../src/core/bytes.ts';
import { parseUtcTimestamp } from '../../src/core/event.ts';
import type { JsonObject } from '../../src/core/ijson.ts';
import {
  decodeCanonicalRecordFast,
  decodeRecord,
  decodeRecordFast,
  encodeRecord,
  isHash,
  type LogRecord,
  ZERO_HASH_B64,
} from '../../src/core/record.ts';

type Verdict = { ok: true; value: LogRecord } | { ok: false; code: string; message: string };

function verdict(f: (b: Uint8Array) => LogRecord, b: Uint8Array): Verdict {
  try {
    return { ok: true, value: f(b) };
  } catch (e) {
    const err = e as { code?: string; message: string };
    return { ok: false, code: String(err.code), message: err.message };
  }
}

/** The property: same verdict, and the fast half accepts only what the reference accepts, as the same value. */
function sameVerdict(b: Uint8Array): Verdict {
  const reference = verdict(decodeRecord, b);
  expect(verdict(decodeRecordFast, b)).toStrictEqual(reference);
  const fast = decodeCanonicalRecordFast(b);
  if (fast !== undefined) expect(reference).toStrictEqual({ ok: true, value: fast });
  return reference;
}

const base = (metadata: JsonObject, index = 7): LogRecord => ({
  v: 1,
  logId: 'tenant-a',
  index,
  receivedAt: '2025-06-01T00:00:07.000Z',
  submitter: 'svc-ingest',
  prev: index === 0 ? ZERO_HASH_B64 : 'IO1ZOUuTY6vrfIbr04W7DMi2YIv8ue8obvXBFBBm8mE=',
  event: {
    occurredAt: '2025-06-01T00:00:07.123456Z',
    actor: { type: 'agent', id: 'agent-5', name: 'Ägent «five» 🤖' },
    action: 'tool.call',
    target: { type: 'dataset', id: 'ds-5' },
    outcome: 'success',
    metadata,
  },
});

const text = (r: LogRecord): string => new TextDecoder().decode(encodeRecord(r));

/** Valid canonical records with arbitrary metadata (skipping values encodeRecord refuses). */
const records = fc
  .dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 })
  .chain((m) => fc.constant(m as JsonObject))
  .map((m) => {
    try {
      return text(base(m));
    } catch {
      return undefined;
    }
  })
  .filter((t): t is string => t !== undefined);

/** Text edits a tamperer (or a sloppy exporter) might make; most leave valid JSON with the same meaning. */
const EDITS: ReadonlyArray<[string, (t: string, at: number) => string]> = [
  ['space after a colon', (t, at) => replaceNth(t, ':', at, ': ')],
  ['newline before a brace', (t, at) => replaceNth(t, '}', at, '\n}')],
  ['BOM', (t) => `\uFEFF${t}`],
  [
    'duplicate name, same value',
    (t) => t.replace('"outcome":"success"', '"outcome":"success","outcome":"success"'),
  ],
  [
    'duplicate name, other value',
    (t) => t.replace('"outcome":"success"', '"outcome":"denied","outcome":"success"'),
  ],
  ['lone high surrogate escape', (t) => t.replace('"agent-5"', '"agent-5\\ud800"')],
  ['lone low surrogate escape', (t) => t.replace('"ds-5"', '"ds-5\\udc00"')],
  ['paired surrogate escapes', (t) => t.replace('🤖', '\\ud83e\\udd16')],
  ['escaped backslash then ud', (t) => t.replace('"ds-5"', '"ds-5\\\\ud800"')],
  ['number 7 as 7.0', (t) => t.replace('"index":7', '"index":7.0')],
  ['number 7 as 7e0', (t) => t.replace('"index":7', '"index":7e0')],
  ['number 7 as 0.7e1', (t) => t.replace('"index":7', '"index":0.7e1')],
  ['version as 1.0', (t) => t.replace('"v":1', '"v":1.0')],
  ['version as -0', (t) => t.replace('"v":1', '"v":-0')],
  ['huge number', (t) => t.replace('"index":7', '"index":1e400')],
  ['inexact integer', (t) => t.replace('"index":7', '"index":9007199254740993')],
  ['escaped letter', (t) => t.replace('"tool.call"', '"tool\\u002ecall"')],
  ['escaped slash', (t) => t.replace('"tool.call"', '"tool\\/call"')],
  ['uppercase escape of a control', (t) => t.replace('"svc-ingest"', '"svc-\\u001Fingest"')],
  [
    'swapped keys',
    (t) =>
      t.replace('"v":1', '"v":1').replace('"submitter":"svc-ingest","v":1', '"v":1,"submitter":"svc-ingest"'),
  ],
  ['trailing garbage', (t) => `${t} `],
  ['truncated', (t, at) => t.slice(0, Math.max(1, t.length - 1 - (at % 40)))],
  ['__proto__ member', (t) => t.replace('"event":{', '"__proto__":{},"event":{')],
  ['integer-like metadata keys', (t) => t.replace('"metadata":{', '"metadata":{"1":1,"10":2,"2":3,')],
  ['unknown record field', (t) => t.replace('"v":1}', '"v":1,"w":2}')],
];

function replaceNth(t: string, what: string, n: number, by: string): string {
  const parts = t.split(what);
  if (parts.length < 2) return t;
  const k = n % (parts.length - 1);
  return `${parts.slice(0, k + 1).join(what)}${by}${parts.slice(k + 1).join(what)}`;
}

describe('fast record path: same verdict as decodeRecord', () => {
  it('valid canonical records are accepted by the fast half itself, as the same record', () => {
    fc.assert(
      fc.property(records, (t) => {
        const b = utf8(t);
        expect(sameVerdict(b).ok).toBe(true);
        // Integer-like keys reach the reference (JSON.parse orders them first); anything else is fast.
        if (!/[{,]"\d+":/.test(t)) expect(decodeCanonicalRecordFast(b)).toBeDefined();
      }),
      { numRuns: 300 },
    );
  });

  it.each(EDITS)('%s', (_name, edit) => {
    fc.assert(
      fc.property(records, fc.nat(), (t, at) => {
        sameVerdict(utf8(edit(t, at)));
      }),
      { numRuns: 40 },
    );
  });

  it('integer-like keys in canonical order: the reference accepts, the fast half defers', () => {
    const t = text(base({ '1': 1, '10': 2, '2': 3, a: [] }));
    expect(t).toContain('"metadata":{"1":1,"10":2,"2":3,"a":[]}');
    expect(decodeCanonicalRecordFast(utf8(t))).toBeUndefined();
    expect(sameVerdict(utf8(t)).ok).toBe(true);
  });

  it('a record nested as deep as the limit, and one level deeper', () => {
    const nest = (d: number): JsonObject => (d === 0 ? {} : { x: nest(d - 1) });
    // changes.before holds 32 levels (EVENT_LIMITS.freeformDepth): depth 35 in the record.
    const ok = base({});
    ok.event.changes = { before: nest(31) };
    expect(sameVerdict(encodeRecord(ok)).ok).toBe(true);
    const deep = text(ok).replace('"x":{}', '"x":{"x":{}}');
    expect(sameVerdict(utf8(deep))).toMatchObject({ ok: false, code: 'INVALID_RECORD' });
  });

  it('random bytes and random byte edits of a valid record', () => {
    fc.assert(
      fc.property(
        records,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
        (t, edits) => {
          const b = utf8(t);
          for (const [pos, x] of edits) b[pos % b.length] = x;
          sameVerdict(b);
        },
      ),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        sameVerdict(b);
      }),
    );
  });

  it('invalid UTF-8 and UTF-8-encoded surrogates', () => {
    const t = text(base({ s: 'x' }));
    const at = t.indexOf('"x"') + 1;
    for (const seq of [[0xed, 0xa0, 0x80], [0xc0, 0x80], [0xff], [0xe2, 0x82]]) {
      const b = utf8(t);
      const out = new Uint8Array(b.length - 1 + seq.length);
      out.set(b.subarray(0, at));
      out.set(seq, at);
      out.set(b.subarray(at + 1), at + seq.length);
      expect(sameVerdict(out).ok).toBe(false);
    }
  });
});

describe('the shortcuts the fast path uses', () => {
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ ';
  const viaDecode = (s: string): boolean => {
    try {
      return fromBase64(s).length === 32;
    } catch {
      return false;
    }
  };
  it('isHash is exactly "fromBase64 gives 32 bytes"', () => {
    const char = fc.constantFrom(...B64);
    fc.assert(
      fc.property(fc.array(char, { minLength: 40, maxLength: 46 }), (cs) => {
        const s = cs.join('');
        expect(isHash(s)).toBe(viaDecode(s));
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.constantFrom(...B64), (b, c) => {
        const s = Buffer.from(b).toString('base64');
        expect(isHash(s)).toBe(true);
        // Every one-character change, including the non-canonical trailing bits.
        for (const i of [0, 41, 42, 43]) {
          const t = s.slice(0, i) + c + s.slice(i + 1);
          expect(isHash(t)).toBe(viaDecode(t));
        }
      }),
      { numRuns: 500 },
    );
  });

  /** parseUtcTimestamp as it was: the pattern only. */
  const RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;
  const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  function byPattern(s: string): number | undefined {
    const m = RE.exec(s);
    if (!m) return undefined;
    const [y, mo, d, h, mi, se] = m.slice(1, 7).map(Number) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    if (y < 1970 || mo < 1 || mo > 12 || h > 23 || mi > 59 || se > 59) return undefined;
    const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
    const dim = mo === 2 && leap ? 29 : (DAYS[mo - 1] as number);
    if (d < 1 || d > dim) return undefined;
    const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
    return Date.UTC(y, mo - 1, d, h, mi, se, ms);
  }

  it('the fixed-width parseUtcTimestamp agrees with the pattern', () => {
    const digit = fc.constantFrom(...'0123456789');
    const d = (n: number) => fc.array(digit, { minLength: n, maxLength: n }).map((a) => a.join(''));
    const sep = (c: string) => fc.constantFrom(c, c, c, c, c, 'x', '-', ':', '.', 'Z', '5', ' ');
    const stamp = fc
      .tuple(
        d(4),
        sep('-'),
        d(2),
        sep('-'),
        d(2),
        sep('T'),
        d(2),
        sep(':'),
        d(2),
        sep(':'),
        d(2),
        sep('.'),
        d(3),
        sep('Z'),
      )
      .map((p) => p.join(''));
    fc.assert(
      fc.property(stamp, (s) => {
        expect(s.length).toBe(24);
        expect(parseUtcTimestamp(s)).toBe(byPattern(s));
      }),
      { numRuns: 5000 },
    );
    const plausible = fc
      .tuple(
        fc.integer({ min: 1960, max: 2500 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 24 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 999 }),
      )
      .map(
        ([y, mo, da, h, mi, se, ms]) =>
          `${y}-${String(mo).padStart(2, '0')}-${String(da).padStart(2, '0')}T${String(h).padStart(2, '0')}:${String(mi).padStart(2, '0')}:${String(se).padStart(2, '0')}.${String(ms).padStart(3, '0')}Z`,
      );
    fc.assert(
      fc.property(plausible, (s) => {
        expect(parseUtcTimestamp(s)).toBe(byPattern(s));
      }),
      { numRuns: 5000 },
    );
    for (const s of [
      '2024-02-29T23:59:59.999Z',
      '2023-02-29T00:00:00.000Z',
      '2100-02-29T00:00:00.000Z',
      '1969-12-31T23:59:59.999Z',
      '٢٠٢٤-02-29T23:59:59.999Z',
    ])
      expect(parseUtcTimestamp(s), s).toBe(byPattern(s));
  });
});
