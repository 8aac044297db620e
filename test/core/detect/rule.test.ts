/**
 * Rule documents from untrusted sources: valid ones load, invalid ones are
 * refused with a RuleError whose code and path (and, in an expression, the
 * position) say what is wrong — and nothing else is ever thrown.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadRule } from '../../../src/core/detect/compile.ts';
import { RuleError, type RuleErrorCode } from '../../../src/core/detect/errors.ts';
import { MAX_RULE_DOCUMENT_BYTES, parseRuleDocument } from '../../../src/core/detect/rule.ts';
import { ruleDoc } from './support.ts';

function refusal(input: unknown): RuleError {
  try {
    loadRule(input);
  } catch (err) {
    expect(err).toBeInstanceOf(RuleError);
    return err as RuleError;
  }
  throw new Error('accepted');
}

const expectRefused = (input: unknown, code: RuleErrorCode, path: string) => {
  const e = refusal(input);
  expect({ code: e.code, path: e.path }).toEqual({ code, path });
  return e;
};

describe('valid documents', () => {
  it('loads every kind, from text, bytes or a parsed value, with defaults', () => {
    const docs = [
      ruleDoc(),
      ruleDoc({
        kind: 'threshold',
        threshold: {
          aggregate: 'sum',
          field: 'event.metadata.bytes',
          groupBy: 'event.actor.id',
          window: '1h',
          windowType: 'sliding',
          op: '>',
          value: 5e9,
        },
        dedup: { window: '6h' },
        suppress: [{ from: '2026-04-01T22:00:00.000Z', to: '2026-04-02T02:00:00Z', reason: 'CHG-1' }],
        destinations: ['secops-pager'],
        labels: { pack: 'ai-platform' },
        description: 'Line one.\nLine two.',
      }),
      ruleDoc({
        kind: 'first_seen',
        first_seen: { value: 'event.target.id', key: 'event.actor.id', lookback: '30d', learn: '7d' },
      }),
      ruleDoc({
        kind: 'absence',
        logs: ['system'],
        absence: { for: '15m', key: 'submitter', expect: ['svc-a'] },
      }),
    ];
    for (const d of docs) {
      expect(loadRule(d).doc.id).toBe('test.rule');
      expect(loadRule(JSON.stringify(d)).doc).toEqual(loadRule(d).doc);
      expect(loadRule(new TextEncoder().encode(JSON.stringify(d))).doc).toEqual(loadRule(d).doc);
    }
    const doc = parseRuleDocument(ruleDoc());
    expect(doc.enabled).toBe(true);
    expect(doc.logs).toEqual(['*']);
  });

  it('state is keyed by id and the fingerprint of the kind block only', () => {
    const base = { kind: 'first_seen', first_seen: { value: 'event.target.id', lookback: '30d' } };
    const a = loadRule(ruleDoc(base));
    const retitled = loadRule(
      ruleDoc({ ...base, title: 'New title', version: 2, match: "event.action == 'x'" }),
    );
    const relooked = loadRule(ruleDoc({ ...base, first_seen: { value: 'event.target.id', lookback: '7d' } }));
    expect(retitled.stateKey).toBe(a.stateKey);
    expect(relooked.stateKey).not.toBe(a.stateKey);
    expect(a.stateKey).toMatch(/^test\.rule@[0-9a-f]{16}$/);
  });
});

describe('invalid documents', () => {
  it.each([
    [{ ...ruleDoc(), extra: 1 }, 'UNKNOWN_FIELD', '/extra'],
    [{ ...ruleDoc(), treshold: {} }, 'UNKNOWN_FIELD', '/treshold'],
    [ruleDoc({ schema: 'anchorlog.rule/v2' }), 'INVALID_FIELD', '/schema'],
    [ruleDoc({ id: 'Bad Id' }), 'INVALID_FIELD', '/id'],
    [ruleDoc({ version: 0 }), 'INVALID_FIELD', '/version'],
    [ruleDoc({ version: 1.5 }), 'INVALID_FIELD', '/version'],
    [ruleDoc({ version: '1' }), 'INVALID_FIELD', '/version'],
    [ruleDoc({ title: '' }), 'INVALID_FIELD', '/title'],
    [ruleDoc({ title: 'a\u0000b' }), 'INVALID_FIELD', '/title'],
    [ruleDoc({ title: 'x'.repeat(201) }), 'INVALID_FIELD', '/title'],
    [ruleDoc({ severity: 'urgent' }), 'INVALID_FIELD', '/severity'],
    [ruleDoc({ runbook: 'http://runbooks.example/x' }), 'INVALID_FIELD', '/runbook'],
    [ruleDoc({ runbook: 'javascript:alert(1)' }), 'INVALID_FIELD', '/runbook'],
    [ruleDoc({ enabled: 'yes' }), 'INVALID_FIELD', '/enabled'],
    [ruleDoc({ logs: [] }), 'INVALID_FIELD', '/logs'],
    [ruleDoc({ logs: ['acme', 'Acme!'] }), 'INVALID_FIELD', '/logs/1'],
    [ruleDoc({ logs: ['acme', 'acme'] }), 'INVALID_FIELD', '/logs/1'],
    [ruleDoc({ match: 42 }), 'INVALID_FIELD', '/match'],
    [ruleDoc({ kind: 'regex' }), 'INVALID_FIELD', '/kind'],
    [ruleDoc({ kind: 'threshold' }), 'MISSING_FIELD', '/threshold'],
    [ruleDoc({ absence: { for: '5m' } }), 'INVALID_FIELD', '/absence'],
    [
      ruleDoc({
        kind: 'threshold',
        threshold: { aggregate: 'sum', window: '1m', windowType: 'sliding', op: '>', value: 1 },
      }),
      'MISSING_FIELD',
      '/threshold/field',
    ],
    [
      ruleDoc({
        kind: 'threshold',
        threshold: { aggregate: 'count', window: '1 m', windowType: 'sliding', op: '>', value: 1 },
      }),
      'INVALID_FIELD',
      '/threshold/window',
    ],
    [
      ruleDoc({
        kind: 'threshold',
        threshold: { aggregate: 'count', window: '8d', windowType: 'sliding', op: '>', value: 1 },
      }),
      'INVALID_FIELD',
      '/threshold/window',
    ],
    [
      ruleDoc({
        kind: 'threshold',
        threshold: { aggregate: 'count', window: '1m', windowType: 'sliding', op: '<', value: 1 },
      }),
      'INVALID_FIELD',
      '/threshold/op',
    ],
    [
      ruleDoc({
        kind: 'threshold',
        threshold: {
          aggregate: 'distinct',
          field: 'submitter',
          window: '1m',
          windowType: 'sliding',
          op: '>',
          value: 2.5,
        },
      }),
      'INVALID_FIELD',
      '/threshold/value',
    ],
    [
      ruleDoc({
        kind: 'threshold',
        threshold: {
          aggregate: 'count',
          window: '1m',
          windowType: 'sliding',
          op: '>',
          value: 1,
          extra: true,
        },
      }),
      'UNKNOWN_FIELD',
      '/threshold/extra',
    ],
    [
      ruleDoc({ kind: 'first_seen', first_seen: { value: 'submitter', lookback: '10m' } }),
      'INVALID_FIELD',
      '/first_seen/lookback',
    ],
    [ruleDoc({ kind: 'absence', absence: { for: '5m', expect: ['a'] } }), 'INVALID_FIELD', '/absence/expect'],
    [
      ruleDoc({ kind: 'absence', absence: { for: '5m' }, dedup: { window: '1h' } }),
      'INVALID_FIELD',
      '/dedup',
    ],
    [
      ruleDoc({ suppress: [{ from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z', reason: 'x' }] }),
      'INVALID_FIELD',
      '/suppress/0/to',
    ],
    [
      ruleDoc({ suppress: [{ from: 'yesterday', to: '2026-01-01T00:00:00Z', reason: 'x' }] }),
      'INVALID_FIELD',
      '/suppress/0/from',
    ],
    [ruleDoc({ destinations: ['Pager!'] }), 'INVALID_FIELD', '/destinations/0'],
    [ruleDoc({ labels: { k: 1 } }), 'INVALID_FIELD', '/labels/k'],
    [ruleDoc({ labels: [] }), 'INVALID_FIELD', '/labels'],
  ])('%# refuses with the field', (doc, code, path) => {
    expectRefused(doc, code as RuleErrorCode, path);
  });

  it('names missing required fields', () => {
    for (const k of ['schema', 'id', 'version', 'title', 'severity', 'owner', 'runbook', 'match', 'kind']) {
      const d = ruleDoc();
      delete d[k];
      expectRefused(d, 'MISSING_FIELD', `/${k}`);
    }
  });

  it('refuses expressions with their position', () => {
    const e = expectRefused(
      ruleDoc({ match: "event.action == 'x' &&\n  evnt.outcome == 'y'" }),
      'UNKNOWN_VARIABLE',
      '/match',
    );
    expect(e.position).toEqual({ offset: 25, line: 2, column: 3 });
    const t = expectRefused(
      ruleDoc({
        kind: 'threshold',
        threshold: {
          aggregate: 'count',
          groupBy: 'event.actor.id(',
          window: '1m',
          windowType: 'sliding',
          op: '>',
          value: 1,
        },
      }),
      'EXPRESSION_SYNTAX',
      '/threshold/groupBy',
    );
    expect(t.position?.offset).toBe(14);
    expect(t.message).toContain('/threshold/groupBy 1:15');
  });
});

describe('hostile input: only RuleError, with a code', () => {
  it.each([
    ['', 'INVALID_JSON'],
    ['{', 'INVALID_JSON'],
    ['nul', 'INVALID_JSON'],
    ['[]', 'INVALID_FIELD'],
    ['"rule"', 'INVALID_FIELD'],
    ['null', 'INVALID_FIELD'],
    ['{"id":"a","id":"b"}', 'INVALID_JSON'],
    ['{"title":"\\ud800"}', 'INVALID_JSON'],
    [`${'['.repeat(100)}${']'.repeat(100)}`, 'INVALID_JSON'],
    ['\ufeff{}', 'INVALID_JSON'],
  ])('text %j → %s', (text, code) => {
    expect(refusal(text).code).toBe(code);
  });

  it('a garbage document says where (line and column)', () => {
    const e = refusal('{\n  "id": "x",\n  "title": oops\n}');
    expect(e.code).toBe('INVALID_JSON');
    expect(e.position?.line).toBe(3);
  });

  it('refuses a document over 64 KiB before parsing it', () => {
    const big = JSON.stringify(ruleDoc({ description: 'x'.repeat(MAX_RULE_DOCUMENT_BYTES) }));
    expect(refusal(big).code).toBe('DOCUMENT_TOO_LARGE');
    expect(refusal(new TextEncoder().encode(big)).code).toBe('DOCUMENT_TOO_LARGE');
  });

  it('refuses values that are not plain JSON objects', () => {
    class Doc {
      schema = 'anchorlog.rule/v1';
    }
    for (const v of [new Doc(), new Map(), undefined, 7, () => 1, Symbol('x'), [ruleDoc()]])
      expect(refusal(v).code).toBe('INVALID_FIELD');
  });

  it('arbitrary JSON values: accepted or refused with a RuleError, nothing else', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => {
        try {
          loadRule(v);
        } catch (err) {
          expect(err).toBeInstanceOf(RuleError);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('mutated valid documents: accepted or refused with a RuleError, nothing else', () => {
    const base = ruleDoc({
      kind: 'threshold',
      threshold: {
        aggregate: 'sum',
        field: 'event.metadata.bytes',
        groupBy: 'event.actor.id',
        window: '1h',
        windowType: 'sliding',
        op: '>',
        value: 5,
      },
      dedup: { window: '1h', key: 'submitter' },
    });
    const keys = [
      ...Object.keys(base),
      'threshold.window',
      'threshold.field',
      'threshold.value',
      'dedup.key',
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...keys),
        fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.string(), fc.constant(undefined)),
        (key, value) => {
          const d = structuredClone(base) as Record<string, Record<string, unknown>>;
          const [a, b] = key.split('.') as [string, string | undefined];
          if (b === undefined) (d as Record<string, unknown>)[a] = value;
          else (d[a] as Record<string, unknown>)[b] = value;
          try {
            loadRule(d);
          } catch (err) {
            expect(err).toBeInstanceOf(RuleError);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
