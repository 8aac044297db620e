import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8 } from '../../src/core/bytes.ts';
import { canonicalJson } from '../../src/core/canonical.ts';
import {
  CanonicalJsonError,
  type CanonicalJsonErrorCode,
  isWellFormedUnicode,
  parseJson,
  pointer,
  utf8Length,
} from '../../src/core/ijson.ts';

function errorOf(f: () => unknown): CanonicalJsonError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CanonicalJsonError);
    return e as CanonicalJsonError;
  }
  throw new Error('expected a CanonicalJsonError');
}

const expectCode = (input: string | Uint8Array, code: CanonicalJsonErrorCode, opts = {}) =>
  expect(errorOf(() => parseJson(input, opts)).code).toBe(code);

describe('parseJson: accepts JSON', () => {
  it.each([
    ['null', null],
    ['true', true],
    ['false', false],
    [' 0 ', 0],
    ['-0', -0],
    ['1.5e3', 1500],
    ['-12.25E-2', -0.1225],
    ['1E+2', 100],
    ['"a\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE02"', 'a"\\/\b\f\n\r\té😂'],
    ['[]', []],
    ['{}', {}],
    ['[1,[2,{"a":[]}]]', [1, [2, { a: [] }]]],
    ['{"a":1,"b":{"c":null}}', { a: 1, b: { c: null } }],
    ['\t\r\n {"x" : [ 1 , 2 ] } \n', { x: [1, 2] }],
    ['5e-324', 5e-324],
    ['1.7976931348623157e308', 1.7976931348623157e308],
    ['0.0000', 0],
    ['0e999', 0],
  ])('%s', (text, want) => {
    expect(parseJson(text)).toEqual(want);
    expect(parseJson(utf8(text))).toEqual(want);
  });

  it('agrees with JSON.parse on any duplicate-free JSON', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        expect(parseJson(text)).toStrictEqual(JSON.parse(text));
        expect(parseJson(utf8(text))).toStrictEqual(JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps "__proto__" as data, never as a prototype', () => {
    const v = parseJson('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(canonicalJson(v)).toBe('{"__proto__":{"polluted":true},"a":1}');
  });

  it('accepts non-ASCII UTF-8 and keeps it exact', () => {
    const s = 'é€😂\u0000'.replace('\u0000', '');
    expect(parseJson(utf8(JSON.stringify({ s })))).toEqual({ s });
  });
});

describe('parseJson: rejects', () => {
  it.each([
    '',
    ' ',
    '{',
    '[',
    '[1,]',
    '{"a":1,}',
    '{"a" 1}',
    '{a:1}',
    "{'a':1}",
    '[1 2]',
    '01',
    '-',
    '1.',
    '.5',
    '1e',
    '1e+',
    '+1',
    '0x10',
    'NaN',
    'Infinity',
    '-Infinity',
    'tru',
    'nul',
    'True',
    '"abc',
    '"\\x41"',
    '"\\u12"',
    '"\\u12G4"',
    '"tab\there"',
    '"nl\nhere"',
    '{} {}',
    '[] x',
    '\u00a0[]',
    '\ufeff[]',
    '/* c */ []',
    '{"a":1}}',
  ])('%j as INVALID_JSON', (text) => {
    expectCode(text, 'INVALID_JSON');
    expectCode(utf8(text), 'INVALID_JSON');
  });

  it.each([
    ['{"a":1,"a":2}', '/a'],
    ['{"a":1,"b":{"c":1,"c":1}}', '/b/c'],
    ['{"a":1,"\\u0061":2}', '/a'],
    ['[{"x":0},{"k":[1,{"y":1,"y":2}]}]', '/1/k/1/y'],
    ['{"events":[{},{},{},{"actor":{"id":"a","id":"b"}}]}', '/events/3/actor/id'],
    ['{"a/b~c":0,"a/b~c":1}', '/a~1b~0c'],
  ])('duplicate keys in %s at %s', (text, path) => {
    const e = errorOf(() => parseJson(utf8(text)));
    expect(e.code).toBe('DUPLICATE_KEY');
    expect(e.path).toBe(path);
  });

  it('reports the byte offset of a duplicate key after multi-byte text', () => {
    const text = '{"é":"€","é":1}';
    const e = errorOf(() => parseJson(utf8(text)));
    expect(e.offset).toBe(utf8('{"é":"€",').length);
    expect(errorOf(() => parseJson(text)).offset).toBe('{"é":"€",'.length);
  });

  it.each(['"\\uD800"', '"\\uDC00"', '"\\uD83D\\u0041"', '"\\uDE02\\uD83D"', '"\\uD83Dx"', '{"\\uD800":1}'])(
    'lone surrogate escape %s',
    (text) => {
      expectCode(text, 'LONE_SURROGATE');
      expectCode(utf8(text), 'LONE_SURROGATE');
    },
  );

  it('raw lone surrogates in string input', () => {
    expectCode('"\uD800"', 'LONE_SURROGATE');
    expectCode('"a\uDC00b"', 'LONE_SURROGATE');
    expectCode('["\uD83D"]', 'LONE_SURROGATE');
    expect(parseJson('"\uD83D\uDE02"')).toBe('😂');
  });

  it('UTF-8-encoded surrogates in byte input, with the offset', () => {
    const bytes = new Uint8Array([0x22, 0x61, 0xed, 0xa0, 0x80, 0x22]);
    const e = errorOf(() => parseJson(bytes));
    expect(e.code).toBe('LONE_SURROGATE');
    expect(e.offset).toBe(2);
  });

  it.each([
    [[0x22, 0xff, 0x22], 1],
    [[0x22, 0x61, 0xc3, 0x22], 2], // truncated 2-byte sequence
    [[0x22, 0xc0, 0xaf, 0x22], 1], // overlong '/'
    [[0x22, 0xe0, 0x80, 0xaf, 0x22], 1], // overlong
    [[0x22, 0xf4, 0x90, 0x80, 0x80, 0x22], 1], // > U+10FFFF
    [[0x22, 0xf8, 0x88, 0x80, 0x80, 0x80, 0x22], 1],
    [[0x5b, 0x22, 0x61, 0x22, 0x2c, 0x80, 0x5d], 5], // stray continuation
    [[0x22, 0xe2, 0x82], 1], // truncated at end
  ])('invalid UTF-8 %j at byte %d', (b, offset) => {
    const e = errorOf(() => parseJson(new Uint8Array(b)));
    expect(e.code).toBe('INVALID_UTF8');
    expect(e.offset).toBe(offset);
  });

  it.each([
    '1e400',
    '-1e400',
    '1e309',
    '179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792',
    '[1, 2e308]',
  ])('overflow %s', (text) => {
    expectCode(text, 'NUMBER_OUT_OF_RANGE');
  });

  it.each(['1e-400', '-2e-324', '0.' + '0'.repeat(400) + '1'])('underflow to zero %s', (text) => {
    expectCode(text, 'NUMBER_OUT_OF_RANGE');
  });

  it('depth: accepts maxDepth, rejects maxDepth + 1, with the path', () => {
    const nest = (n: number) => '['.repeat(n) + ']'.repeat(n);
    expect(() => parseJson(nest(64))).not.toThrow();
    expectCode(nest(65), 'TOO_DEEP');
    expectCode(nest(4), 'TOO_DEEP', { maxDepth: 3 });
    expect(() => parseJson(nest(3), { maxDepth: 3 })).not.toThrow();
    const e = errorOf(() => parseJson('{"a":[{"b":{}}]}', { maxDepth: 3 }));
    expect(e.code).toBe('TOO_DEEP');
    expect(e.path).toBe('/a/0/b');
    // Deep garbage fails fast instead of overflowing the stack.
    expectCode('['.repeat(1_000_000), 'TOO_DEEP');
    expectCode('{"a":'.repeat(100_000), 'TOO_DEEP');
  });

  it('size: TOO_LARGE for bytes and for strings by UTF-8 length', () => {
    expectCode(utf8('[1,2,3]'), 'TOO_LARGE', { maxBytes: 6 });
    expect(parseJson(utf8('[1,2,3]'), { maxBytes: 7 })).toEqual([1, 2, 3]);
    expectCode('"€€"', 'TOO_LARGE', { maxBytes: 7 }); // 8 bytes in UTF-8, 4 code units
    expect(parseJson('"€€"', { maxBytes: 8 })).toBe('€€');
  });

  it('prefixes error paths with basePath', () => {
    const e = errorOf(() => parseJson('{"a":{"b":1,"b":2}}', { basePath: '/events/3' }));
    expect(e.path).toBe('/events/3/a/b');
  });

  it('paths inside arrays point at the failing element', () => {
    const e = errorOf(() => parseJson('{"events":[1,2,{"x":[true, nope]}]}'));
    expect(e.code).toBe('INVALID_JSON');
    expect(e.path).toBe('/events/2/x/1');
  });

  it('rejects every document with a duplicate key (property)', () => {
    const key = fc.string({ maxLength: 6 });
    fc.assert(
      fc.property(
        fc.dictionary(key, fc.jsonValue(), { maxKeys: 5 }),
        key,
        fc.jsonValue(),
        fc.jsonValue(),
        fc.nat(),
        (obj, k, v1, v2, at) => {
          // Build {"...": ..., k: v1, ..., k: v2, ...} with k possibly escaped differently.
          const members = Object.entries(obj)
            .filter(([x]) => x !== k)
            .map(([x, v]) => `${JSON.stringify(x)}:${JSON.stringify(v)}`);
          const escaped = [...k].map((ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
          const i = at % (members.length + 1);
          members.splice(i, 0, `${JSON.stringify(k)}:${JSON.stringify(v1)}`);
          members.push(`"${escaped}":${JSON.stringify(v2)}`);
          const doc = `{"wrap":[{${members.join(',')}}]}`;
          const e = errorOf(() => parseJson(utf8(doc)));
          expect(e.code).toBe('DUPLICATE_KEY');
          expect(e.path).toBe(pointer('/wrap/0', k));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws anything but CanonicalJsonError on garbage (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        try {
          parseJson(b);
        } catch (e) {
          expect(e).toBeInstanceOf(CanonicalJsonError);
        }
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.constantFrom(...'{}[]",:0123456789-+.eE \\utrfnla\uD800\uDC00'.split('')),
          maxLength: 40,
        }),
        (s) => {
          let ours: unknown;
          let ourError: unknown;
          try {
            ours = parseJson(s);
          } catch (e) {
            ourError = e;
            expect(e).toBeInstanceOf(CanonicalJsonError);
          }
          // Whenever we accept, JSON.parse agrees on the value.
          if (ourError === undefined) expect(ours).toStrictEqual(JSON.parse(s));
        },
      ),
      { numRuns: 3000 },
    );
  });
});

/**
 * Exact rational value of a JSON number literal, m × 10^e with BigInt, as an
 * oracle independent of the parser's own decimal comparison.
 */
function rational(literal: string): { neg: boolean; m: bigint; e: number } {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(literal);
  if (!match) throw new Error(`not a JSON number: ${literal}`);
  const [, sign, int = '', frac = '', exp = '0'] = match;
  return { neg: sign === '-', m: BigInt(int + frac), e: Number(exp) - frac.length };
}
function sameDecimal(a: string, b: string): boolean {
  const x = rational(a);
  const y = rational(b);
  if (x.m === 0n || y.m === 0n) return x.m === y.m; // -0 and 0 are both zero
  if (x.neg !== y.neg) return false;
  const e = Math.min(x.e, y.e);
  return x.m * 10n ** BigInt(x.e - e) === y.m * 10n ** BigInt(y.e - e);
}

describe('parseJson: a number is accepted only if RFC 8785 stores exactly what was written', () => {
  it.each([
    ['0.10', 0.1],
    ['1e2', 100],
    ['1E+2', 100],
    ['100e-2', 1],
    ['-0', -0],
    ['-0.0e5', -0],
    ['9007199254740991', 2 ** 53 - 1],
    ['-9007199254740991', -(2 ** 53 - 1)],
    ['9007199254740992', 2 ** 53], // canonical "9007199254740992": the same number
    ['5e-324', 5e-324],
    ['1.7976931348623157e308', Number.MAX_VALUE],
    ['2.2250738585072014e-308', 2.2250738585072014e-308],
    ['1e21', 1e21],
    ['123456789012345680000', 123456789012345680000],
    ['0.000001', 0.000001],
    ['1e-7', 1e-7],
  ])('accepts %s', (text, want) => {
    expect(Object.is(parseJson(text), want)).toBe(true);
  });

  it.each([
    ['9007199254740993', '9007199254740992'],
    ['-9007199254740993', '-9007199254740992'],
    ['1.00000000000000011', '1'],
    ['18446744073709551616', '18446744073709552000'], // 2^64 is a double, but RFC 8785 writes it otherwise
    ['2.4703282292062328e-324', '5e-324'],
    ['0.1000000000000000055511151231257827', '0.1'],
    ['333333333.33333329', '333333333.3333333'], // RFC 8785's own example of a changed number
  ])('rejects %s (it would be stored as %s) with INEXACT_NUMBER and the path', (text, stored) => {
    const e = errorOf(() => parseJson(`{"metadata":{"tokens":[1,${text}]}}`, { basePath: '/events/0' }));
    expect(e.code).toBe('INEXACT_NUMBER');
    expect(e.path).toBe('/events/0/metadata/tokens/1');
    expect(e.message).toContain(stored);
    expect(e.offset).toBe(25);
  });

  it.each(['1e400', '-1e400', '1e-400', '-1e-400'])('rejects %s as out of range', (text) => {
    expect(errorOf(() => parseJson(`[${text}]`)).path).toBe('/0');
    expectCode(text, 'NUMBER_OUT_OF_RANGE');
  });

  it('property: every finite double, however it is spelled, is accepted as itself', () => {
    fc.assert(
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.integer({ min: 0, max: 30 }),
        fc.boolean(),
        (d, shift, upper) => {
          const shortest = JSON.stringify(d); // = RFC 8785 §3.2.2.3
          expect(Object.is(parseJson(shortest), d === 0 ? 0 : d)).toBe(true);
          // The same decimal with `shift` more trailing zeros and a compensating exponent.
          const r = rational(shortest);
          if (r.m === 0n) return; // "00e-1" is not JSON; zero spellings are listed above
          const respelled = `${r.neg ? '-' : ''}${r.m}${'0'.repeat(shift)}${upper ? 'E' : 'e'}${r.e - shift}`;
          expect(parseJson(respelled)).toBe(d);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('property: a double perturbed below its precision is rejected', () => {
    fc.assert(
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => d !== 0),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 1, max: 9 }),
        (d, zeros, digit) => {
          // 18+ significant digits, never the shortest round-trip form (at most 17 digits).
          const r = rational(JSON.stringify(d));
          const z = Math.max(zeros, 17 - String(r.m).length);
          const text = `${r.neg ? '-' : ''}${r.m}${'0'.repeat(z)}${digit}e${r.e - z - 1}`;
          const e = errorOf(() => parseJson(text));
          expect(['INEXACT_NUMBER', 'NUMBER_OUT_OF_RANGE']).toContain(e.code);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('property: random decimal literals are accepted exactly when their canonical form is the same number', () => {
    const literal = fc
      .tuple(
        fc.boolean(),
        fc.stringMatching(/^(0|[1-9][0-9]{0,24})$/),
        fc.option(fc.stringMatching(/^[0-9]{1,24}$/), { nil: undefined }),
        fc.option(fc.integer({ min: -400, max: 400 }), { nil: undefined }),
      )
      .map(
        ([neg, int, frac, exp]) =>
          `${neg ? '-' : ''}${int}${frac === undefined ? '' : `.${frac}`}${exp === undefined ? '' : `e${exp}`}`,
      );
    fc.assert(
      fc.property(literal, (text) => {
        const d = Number(text);
        const zero = rational(text).m === 0n;
        const ok = Number.isFinite(d) && (zero || d !== 0) && sameDecimal(text, JSON.stringify(d));
        let value: unknown;
        let error: CanonicalJsonError | undefined;
        try {
          value = parseJson(text);
        } catch (e) {
          error = e as CanonicalJsonError;
        }
        if (ok) {
          expect(error).toBeUndefined();
          expect(value).toBe(d);
          // What the record will say is what was written.
          expect(sameDecimal(canonicalJson(value), text)).toBe(true);
        } else {
          expect(error).toBeInstanceOf(CanonicalJsonError);
          expect(error?.code).toBe(
            Number.isFinite(d) && (zero || d !== 0) ? 'INEXACT_NUMBER' : 'NUMBER_OUT_OF_RANGE',
          );
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('helpers', () => {
  it('pointer escapes ~ and / (RFC 6901)', () => {
    expect(pointer('', 'a/b', 'm~n', 3)).toBe('/a~1b/m~0n/3');
    expect(pointer('/events', 0)).toBe('/events/0');
  });
  it('utf8Length matches TextEncoder', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => utf8Length(s) === utf8(s).length));
    expect(utf8Length('\uD800')).toBe(3);
  });
  it('isWellFormedUnicode', () => {
    expect(isWellFormedUnicode('a😂')).toBe(true);
    expect(isWellFormedUnicode('\uD83D')).toBe(false);
    expect(isWellFormedUnicode('\uDE02\uD83D')).toBe(false);
  });
});

describe('performance', () => {
  it('parses a 1 MiB request body quickly', () => {
    const event = {
      occurredAt: '2026-03-01T12:00:00.000Z',
      actor: { type: 'agent', id: 'agent-42', name: 'Planner', onBehalfOf: { type: 'human', id: 'u-7' } },
      action: 'tool.call',
      target: { type: 'tool', id: 'search', name: 'Web search «beta»' },
      outcome: 'success',
      context: { requestId: 'req-1', ip: '203.0.113.9', userAgent: 'sdk/1.0' },
      metadata: { tokens: 1234, cost: 0.0123, tags: ['a', 'b', 'ü'], nested: { ok: true, n: null } },
    };
    const count = Math.ceil((1024 * 1024) / (JSON.stringify(event).length + 1));
    const events = Array.from({ length: count }, () => event);
    const bytes = utf8(JSON.stringify({ events }));
    parseJson(bytes); // warm-up
    const runs = 10;
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) parseJson(bytes);
    const ms = (performance.now() - t0) / runs;
    const t1 = performance.now();
    for (let i = 0; i < runs; i++) JSON.parse(new TextDecoder().decode(bytes));
    const native = (performance.now() - t1) / runs;
    console.log(
      `parseJson: ${(bytes.length / 1048576).toFixed(2)} MiB, ${events.length} events: ${ms.toFixed(1)} ms (JSON.parse ${native.toFixed(1)} ms)`,
    );
    // Relative bound: stays meaningful on a loaded CI machine (measured ~30 ms, ~3x JSON.parse, idle).
    expect(ms).toBeLessThan(Math.max(500, native * 20));
  });
});
