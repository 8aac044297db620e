/**
 * Rule expressions: what compiles, where refusals point, the bounds on
 * hostile expressions (docs/detection.md "Bounds on hostile rules"), and the
 * action filter the engine uses to skip rules.
 */
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RuleError } from '../../../src/core/detect/errors.ts';
import {
  type Bindings,
  celJson,
  compileExpression,
  EXPRESSION_LIMITS,
  guardVerdict,
  Verdict,
} from '../../../src/core/detect/expr.ts';
import { MAX_RECORD_BYTES } from '../../../src/core/record.ts';
import { T0 } from './support.ts';

const bindings = (event: unknown = { action: 'tool.call', actor: { id: 'a', type: 'agent' } }): Bindings => ({
  // As the engine passes it.
  event: celJson(event),
  submitter: 'svc',
  receivedAt: timestampFromMs(T0),
  logId: 'acme',
  index: 7n,
  raw: { event, submitter: 'svc', logId: 'acme' },
});

function refused(source: string): RuleError {
  try {
    compileExpression(source, '/match');
  } catch (err) {
    expect(err).toBeInstanceOf(RuleError);
    return err as RuleError;
  }
  throw new Error(`accepted: ${source}`);
}

const run = (source: string, b = bindings()) => compileExpression(source, '/match').evaluate(b);

describe('evaluation', () => {
  it('sees the record: JSON numbers are doubles, comparisons cross numeric types, absent fields are errors', () => {
    const b = bindings({
      action: 'data.export',
      metadata: { bytes: 200, tags: ['x', 'y'] },
      actor: { id: 'a' },
    });
    expect(run('event.metadata.bytes > 100', b)).toEqual({ ok: true, value: true });
    expect(run('event.metadata.bytes + 1.0 == 201.0', b)).toEqual({ ok: true, value: true });
    expect(run("'y' in event.metadata.tags && size(event.metadata.tags) == 2", b)).toEqual({
      ok: true,
      value: true,
    });
    expect(run('has(event.target)', b)).toEqual({ ok: true, value: false });
    expect(
      run("index == 7 && logId == 'acme' && submitter == 'svc' && receivedAt.getHours('UTC') == 0", b),
    ).toEqual({
      ok: true,
      value: true,
    });
    const missing = run('event.target.id == "x"', b);
    expect(missing).toMatchObject({ ok: false, code: 'EVAL_ERROR', position: { offset: 5 } });
  });

  it('matches is RE2: a pattern that backtracks catastrophically in JavaScript runs in linear time', () => {
    // With a backtracking engine this input takes longer than the test timeout.
    const s = `${'a'.repeat(40_000)}!`;
    expect(run("event.s.matches('^(a+)+$')", bindings({ s }))).toEqual({ ok: true, value: false });
  });
});

describe('refusals point at the mistake', () => {
  it.each([
    ['a.b(', 'EXPRESSION_SYNTAX', 3],
    ["event.action == 'x' && (event.outcome == 'y'", 'EXPRESSION_SYNTAX', 23],
    ["event.action == 'x')", 'EXPRESSION_SYNTAX', 19],
    ["event.action == 'x]", 'EXPRESSION_SYNTAX', 16],
    ['[1, 2)', 'EXPRESSION_SYNTAX', 5],
    ["event.action = 'x'", 'EXPRESSION_SYNTAX', 13],
    ["event.action == 'x' &&", 'EXPRESSION_SYNTAX', 22],
    ["event.action == 'x' &&\n   ", 'EXPRESSION_SYNTAX', 22],
    ['1 +* 2', 'EXPRESSION_SYNTAX', 2],
    ["evnt.action == 'x'", 'UNKNOWN_VARIABLE', 0],
    ["event.action == 'x' && now > 0", 'UNKNOWN_VARIABLE', 23],
    ["lower(event.action) == 'x'", 'UNKNOWN_FUNCTION', 0],
    ['event.actor.id.charAt(0) == "a"', 'UNKNOWN_FUNCTION', 14],
    ['google.protobuf.Duration{seconds: 1} == duration("1s")', 'UNSUPPORTED_EXPRESSION', 0],
    ['', 'EXPRESSION_SYNTAX', undefined],
    ['  ', 'EXPRESSION_SYNTAX', undefined],
  ])('%j → %s at %s', (source, code, offset) => {
    const e = refused(source);
    expect(e.code).toBe(code);
    expect(e.path).toBe('/match');
    expect(e.position?.offset).toBe(offset);
  });

  it('gives line and column in multi-line expressions', () => {
    const e = refused("event.action == 'x'\n  && (event.outcome == 'y'\n  || evnt.z)");
    expect(e.position).toEqual({ offset: 52, line: 3, column: 6 });
  });

  it('knows strings, raw strings, bytes, triple quotes and comments', () => {
    for (const ok of [
      "r'\\' == '\\\\'",
      "b'\\xff' == b'\\377'",
      "'''a\nb(''' == 'x'",
      '"[" == \'[\'',
      "event.action == 'x' // an unclosed ( in a comment\n",
      'R"\\d+" == \'x\'',
    ])
      expect(() => compileExpression(ok, '/match')).not.toThrow();
    expect(refused("'abc").position?.offset).toBe(0);
    expect(refused("'ab\nc'").code).toBe('EXPRESSION_SYNTAX');
    expect(refused("event.action == '''x").position?.offset).toBe(16);
  });
});

describe('bounds on hostile expressions', () => {
  const L = EXPRESSION_LIMITS;

  it('length', () => {
    expect(refused(`'${'x'.repeat(L.maxChars)}'`).code).toBe('EXPRESSION_TOO_LONG');
  });

  it('nesting, before the parser can overflow its stack', () => {
    const deep = `${'('.repeat(L.maxNesting + 1)}1${')'.repeat(L.maxNesting + 1)}`;
    expect(refused(deep)).toMatchObject({ code: 'EXPRESSION_TOO_DEEP', position: { offset: L.maxNesting } });
    for (const open of ['(', '[', '{'])
      expect(refused(`${open.repeat(1000)}`).code).toBe('EXPRESSION_TOO_DEEP');
    expect(() =>
      compileExpression(`${'('.repeat(L.maxNesting)}1${')'.repeat(L.maxNesting)}`, '/m'),
    ).not.toThrow();
  });

  it('size after macro expansion', () => {
    expect(refused(Array(300).fill('1').join(' + ')).code).toBe('EXPRESSION_TOO_COMPLEX');
    expect(refused(`event${'.a'.repeat(450)} == 1`).code).toBe('EXPRESSION_TOO_COMPLEX');
    // Macros expand: 40 small exists() are ~600 nodes.
    expect(refused(Array(40).fill('[1].exists(x, x == 1)').join(' || ')).code).toBe('EXPRESSION_TOO_COMPLEX');
  });

  it('long operator chains parse without exhausting the stack', () => {
    for (const source of [`${'!'.repeat(2000)}true`, `${'-'.repeat(2000)}1 < 0`]) {
      try {
        compileExpression(source, '/m');
      } catch (err) {
        expect(err).toBeInstanceOf(RuleError);
      }
    }
  });

  it('comprehensions nested more than twice, at the inner one', () => {
    const e = refused('event.l.all(x, event.l.all(y, event.l.exists(z, x == y && y == z)))');
    expect(e).toMatchObject({ code: 'EXPRESSION_TOO_COMPLEX', position: { offset: 37 } });
  });

  it('an iteration budget stops quadratic work on the largest record, deterministically', () => {
    // The largest list a 65,535-byte record can hold: ~32,000 one-digit numbers.
    const l = Array.from({ length: Math.floor(MAX_RECORD_BYTES / 2) - 100 }, () => 0);
    const b = bindings({ l });
    for (const source of [
      'event.l.all(x, event.l.all(y, x == y))',
      'event.l.map(x, event.l.filter(y, y == x)).size() > 0',
      'event.l.exists(x, x == 1)',
      'event.l.exists_one(x, x == 1) || true',
    ]) {
      const r = run(source, b);
      expect(r).toMatchObject({ ok: false, code: 'BUDGET_EXCEEDED' });
      expect(run(source, b)).toEqual(r);
    }
    // Within the budget: fine.
    expect(run('event.l.all(x, x == 0)', bindings({ l: l.slice(0, L.maxSteps - 1) }))).toEqual({
      ok: true,
      value: true,
    });
    // An absorbed error does not hide an exhausted budget.
    expect(run('true || event.l.all(x, x == 0)', b)).toEqual({ ok: true, value: true });
    expect(run('event.l.all(x, x == 0) || true', b)).toMatchObject({ ok: false, code: 'BUDGET_EXCEEDED' });
  });

  it('the budget is per evaluation', () => {
    const c = compileExpression('event.l.all(x, x == 0)', '/m');
    const half = bindings({ l: Array(Math.floor(L.maxSteps * 0.9)).fill(0) });
    expect(c.evaluate(half)).toEqual({ ok: true, value: true });
    expect(c.evaluate(half)).toEqual({ ok: true, value: true });
  });

  it('arbitrary text: compiles or is refused with a RuleError; compiled ones never throw', () => {
    const tokens = fc.constantFrom(
      'event',
      '.',
      'action',
      'metadata',
      'x',
      '(',
      ')',
      '[',
      ']',
      '{',
      '}',
      "'",
      '"',
      '\\',
      '==',
      '=',
      '&&',
      '||',
      '!',
      '-',
      '+',
      '?',
      ':',
      ',',
      '1',
      '1.0',
      'true',
      'null',
      'has',
      'all',
      'exists',
      'map',
      'size',
      'matches',
      'in',
      ' ',
      '\n',
      '//',
      'r',
      'b',
      'u',
      '0x',
      '1e9',
    );
    const source = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.array(tokens, { maxLength: 30 }).map((t) => t.join('')),
    );
    fc.assert(
      fc.property(source, (s) => {
        let c: ReturnType<typeof compileExpression>;
        try {
          c = compileExpression(s, '/match');
        } catch (err) {
          expect(err).toBeInstanceOf(RuleError);
          return;
        }
        const r = c.evaluate(bindings({ action: 'x', metadata: { x: [1, 2] } }));
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('guards', () => {
  const guards = (s: string) =>
    compileExpression(s, '/m').guards.map((g) => {
      const path = g.path.join('.');
      switch (g.kind) {
        case 'in':
          return { path, oneOf: [...g.values] };
        case 'prefix':
          return { path, prefix: g.prefix };
        case 'ne':
          return { path, ne: g.value };
        case 'cmp':
          return { path, [g.op]: g.value };
        default:
          return { path, has: true };
      }
    });
  it('takes every top-level conjunct that compares a field with literals', () => {
    expect(guards("event.action == 'a'")).toEqual([{ path: 'event.action', oneOf: ['a'] }]);
    expect(
      guards("event.outcome == 'denied' && 'a' == event.action && event.metadata.privileged == true"),
    ).toEqual([
      { path: 'event.outcome', oneOf: ['denied'] },
      { path: 'event.action', oneOf: ['a'] },
      { path: 'event.metadata.privileged', oneOf: [true] },
    ]);
    expect(
      guards("event.action in ['a', 'b'] && (event.x || submitter == 's') && submitter == 'svc'"),
    ).toEqual([
      { path: 'event.action', oneOf: ['a', 'b'] },
      { path: 'submitter', oneOf: ['svc'] },
    ]);
    expect(guards("event.action.startsWith('tool.') && logId == 'acme'")).toEqual([
      { path: 'event.action', prefix: 'tool.' },
      { path: 'logId', oneOf: ['acme'] },
    ]);
  });
  it('none where a conjunct does not constrain a field to literals', () => {
    for (const s of [
      "event.action == 'a' || event.action == 'b'",
      "!(event.action == 'a')",
      'true',
      'event.action in event.metadata.l',
      'event.metadata.n == 1',
      "has(event.target) == 'x'",
      "index == 'x'",
    ])
      expect(guards(s)).toEqual([]);
  });
  it('takes !=, numeric comparisons and has() too, and knows when they are the whole expression', () => {
    expect(
      guards("event.action != 'a' && event.metadata.n > 2 && 10.5 >= event.metadata.n && has(event.target)"),
    ).toEqual([
      { path: 'event.action', ne: 'a' },
      { path: 'event.metadata.n', '>': 2n },
      { path: 'event.metadata.n', '<=': 10.5 },
      { path: 'event.target', has: true },
    ]);
    expect(compileExpression("event.action == 'a' && has(event.target)", '/m').exact).toBe(true);
    expect(compileExpression("event.action == 'a' && size(event.x) > 1", '/m').exact).toBe(false);
  });

  it('is exact: False means CEL says false, True on an exact expression means CEL says true', () => {
    const exprs = [
      "event.action == 'a' && event.metadata.n > 1",
      "event.action in ['a', 'b'] && event.outcome == 'denied'",
      "event.action.startsWith('a.') && has(event.target)",
      "event.x.y == 'b' && event.action == 'b'",
      'event.metadata.flag == true',
      'event.metadata.flag != true && has(event.x.y)',
      "event.target.id == 't' || event.action == 'zz'",
      "submitter == 'svc' && event.metadata.n != 3 && 2 <= event.metadata.n",
      "event.outcome != 'denied' && event.metadata.n >= 2.5 && event.metadata.n < 4",
    ].map((s) => compileExpression(s, '/m'));
    const value = fc.oneof(
      fc.constantFrom('a', 'b', 'a.x', 't', 'denied', true, false, 1, 2.5, null),
      fc.constant({ y: 'b' }),
      fc.constant(['a']),
    );
    const event = fc.record(
      {
        action: value,
        outcome: value,
        x: value,
        target: fc.oneof(value, fc.record({ id: value })),
        metadata: fc.record(
          { n: fc.oneof(fc.integer({ min: 0, max: 4 }), value), flag: value },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    );
    let decided = 0;
    fc.assert(
      fc.property(event, fc.constantFrom('svc', 'other'), (ev, submitter) => {
        for (const c of exprs) {
          const b = { ...bindings(ev), submitter, raw: { event: ev, submitter, logId: 'acme' } };
          const verdict = guardVerdict(c.guards, b.raw);
          if (verdict === Verdict.False) expect(c.evaluate(b), c.source).toEqual({ ok: true, value: false });
          if (verdict === Verdict.True && c.exact) {
            decided++;
            expect(c.evaluate(b), c.source).toEqual({ ok: true, value: true });
          }
        }
      }),
      { numRuns: 3000 },
    );
    expect(decided).toBeGreaterThan(0);
  });
});
