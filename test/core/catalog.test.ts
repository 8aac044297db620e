// src/core/catalog.ts: catalog documents are checked (hostile ones refused with a code), compiled
// once, and events are checked against the version they name, with every problem's JSON pointer.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { STARTER_CATALOG_DOCUMENTS } from '../../src/compose/starter-catalog.ts';
import {
  Catalog,
  CatalogError,
  compile,
  compiledValidators,
  JSON_SCHEMA_2020,
  parseCatalogDocument,
  unsafePatternReason,
} from '../../src/core/catalog.ts';
import { validateEvent } from '../../src/core/event.ts';
import { demoEvents } from '../../src/local/demo-events.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const starter = Catalog.fromDocuments(STARTER_CATALOG_DOCUMENTS);

function doc(
  overrides: Record<string, unknown> = {},
  schema: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    schema: 'anchorlog.catalog/v1',
    action: 'tool.call',
    version: 1,
    title: 'Tool call',
    description: 'x',
    ocsf: {
      category: 'Application Activity',
      class: 'API Activity',
      classUid: 6003,
      activity: 'Other',
      activityId: 99,
    },
    eventSchema: {
      $schema: JSON_SCHEMA_2020,
      type: 'object',
      required: ['metadata'],
      properties: {
        metadata: { type: 'object', required: ['tool'], properties: { tool: { type: 'string' } } },
      },
      ...schema,
    },
    examples: [
      {
        occurredAt: '2026-03-01T12:00:00.000Z',
        actor: { type: 'agent', id: 'a' },
        action: 'tool.call',
        outcome: 'success',
        metadata: { tool: 't' },
      },
    ],
    ...overrides,
  };
}

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof CatalogError) return e.code;
    throw e;
  }
  return undefined;
}

const ev = (o: Record<string, unknown>) =>
  validateEvent({
    occurredAt: '2026-03-01T12:00:00.000Z',
    actor: { type: 'agent', id: 'a' },
    outcome: 'success',
    ...o,
  });

describe('the starter catalog', () => {
  it('holds every catalog/*.json file, each with a valid example and an OCSF class', () => {
    const files = readdirSync(`${ROOT}catalog`).filter((f) => f.endsWith('.json'));
    expect(STARTER_CATALOG_DOCUMENTS.length).toBe(files.length);
    const onDisk = files.map((f) => JSON.parse(readFileSync(`${ROOT}catalog/${f}`, 'utf8')) as unknown);
    expect(new Set(STARTER_CATALOG_DOCUMENTS)).toEqual(new Set(onDisk));
    for (const f of files) {
      const e = parseCatalogDocument(JSON.parse(readFileSync(`${ROOT}catalog/${f}`, 'utf8')));
      expect(f).toBe(`${e.action}.v${e.version}.json`);
      expect(e.ocsf.classUid).toBeGreaterThan(0);
    }
  });

  it('covers every action issue #15 lists', () => {
    expect(starter.actions()).toEqual(
      expect.arrayContaining([
        'agent.task.submit',
        'agent.task.complete',
        'agent.task.fail',
        'tool.call',
        'connection.register',
        'connection.update',
        'connection.remove',
        'model.invoke',
        'guardrail.evaluate',
        'budget.threshold.breach',
        'workflow.trigger',
        'webhook.receive',
        'config.update',
        'access.grant',
        'access.revoke',
        'role.change',
        'data.export',
        'auth.signin',
        'auth.mfa.verify',
        'producer.heartbeat',
      ]),
    );
  });

  it('accepts every demo event (npm run demo sends catalogued events)', () => {
    const events = demoEvents({ count: 500, startMs: Date.UTC(2026, 2, 1) });
    const problems = events.flatMap((e, i) => starter.check(validateEvent(e), `/events/${i}`));
    expect(problems).toEqual([]);
  });

  it('names every action the starter detection rules match on', () => {
    const actions = new Set<string>();
    for (const f of readdirSync(`${ROOT}rules/ai-platform`)) {
      const rule = JSON.parse(readFileSync(`${ROOT}rules/ai-platform/${f}`, 'utf8')) as {
        match: string;
        requires?: { match?: string };
      };
      for (const text of [rule.match, JSON.stringify(rule)])
        for (const m of text.matchAll(/action == '([a-z0-9_.]+)'/g)) actions.add(m[1] as string);
    }
    expect(actions.size).toBeGreaterThan(3);
    for (const a of actions) expect(starter.entry(a), a).toBeDefined();
    // startsWith('guardrail.') in ai.guardrail.denials-spike
    expect(starter.actions().some((a) => a.startsWith('guardrail.'))).toBe(true);
  });
});

describe('checking events', () => {
  it('names the missing or wrong field by JSON pointer, every problem of the event', () => {
    const problems = starter.check(
      ev({ action: 'tool.call', target: { type: 'tool', id: 'x' }, metadata: { tool: 'x', durationMs: -1 } }),
      '/events/3',
    );
    const paths = problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/events/3/metadata/server',
        '/events/3/metadata/argumentsDigest',
        '/events/3/metadata/resultStatus',
        '/events/3/metadata/durationMs',
      ]),
    );
    expect(problems.find((p) => p.path === '/events/3/metadata/server')?.code).toBe('required');
    expect(problems.find((p) => p.path === '/events/3/metadata/durationMs')?.code).toBe('minimum');
  });

  it('refuses an unknown action at /action', () => {
    expect(starter.check(ev({ action: 'tool.calll' }), '/events/0')).toEqual([
      expect.objectContaining({ path: '/events/0/action', code: 'UNKNOWN_ACTION' }),
    ]);
  });

  it('requires before and after on config.update', () => {
    const p = starter.check(
      ev({ action: 'config.update', target: { type: 'c', id: 'c' }, changes: { after: 1 } }),
      '',
    );
    expect(p.map((x) => x.path)).toEqual(['/changes/before']);
  });

  it('keeps two versions of one action side by side: schemaVersion picks, newest by default', () => {
    const v2 = doc(
      {
        version: 2,
        examples: [{ ...(doc().examples as object[])[0], metadata: { tool: 't', server: 's' } }],
      },
      {
        properties: {
          metadata: {
            type: 'object',
            required: ['tool', 'server'],
            properties: { tool: { type: 'string' } },
          },
        },
      },
    );
    const c = Catalog.fromDocuments([doc(), v2]);
    expect(c.versions('tool.call').map((e) => e.version)).toEqual([1, 2]);
    const old = ev({ action: 'tool.call', metadata: { tool: 't' } });
    expect(c.check({ ...old, schemaVersion: 1 })).toEqual([]);
    expect(c.check(old).map((p) => p.path)).toEqual(['/metadata/server']);
    expect(c.check({ ...old, schemaVersion: 3 })).toEqual([
      expect.objectContaining({ path: '/schemaVersion', code: 'UNKNOWN_VERSION' }),
    ]);
    expect(codeOf(() => Catalog.fromDocuments([doc(), doc()]))).toBe('DUPLICATE_VERSION');
  });

  it('compiles a schema once, whatever the number of catalogs built from it', () => {
    Catalog.fromDocuments(STARTER_CATALOG_DOCUMENTS);
    const n = compiledValidators();
    Catalog.fromDocuments(structuredClone(STARTER_CATALOG_DOCUMENTS) as unknown[]);
    expect(compiledValidators()).toBe(n);
    const s = (STARTER_CATALOG_DOCUMENTS[0] as { eventSchema: object }).eventSchema;
    expect(compile(structuredClone(s) as never)).toBe(compile(s as never));
  });
});

describe('hostile catalog documents are refused with a code', () => {
  it.each([
    ['remote $ref', { properties: { a: { $ref: 'https://evil.example/s.json' } } }, 'REMOTE_REF'],
    ['relative $ref to another document', { properties: { a: { $ref: 'other.json#/x' } } }, 'REMOTE_REF'],
    ['$id', { $id: 'https://evil.example/' }, 'FORBIDDEN_KEYWORD'],
    ['$dynamicRef', { properties: { a: { $dynamicRef: '#x' } } }, 'FORBIDDEN_KEYWORD'],
    ['uniqueItems', { properties: { a: { type: 'array', uniqueItems: true } } }, 'FORBIDDEN_KEYWORD'],
    ['unknown keyword', { properties: { a: { typo: 1 } } }, 'FORBIDDEN_KEYWORD'],
    [
      'catastrophic pattern (a+)+',
      { properties: { a: { type: 'string', pattern: '^(a+)+$' } } },
      'UNSAFE_PATTERN',
    ],
    [
      'alternation under a star',
      { properties: { a: { type: 'string', pattern: '^(a|aa)*$' } } },
      'UNSAFE_PATTERN',
    ],
    ['backreference', { properties: { a: { type: 'string', pattern: '(a)\\1' } } }, 'UNSAFE_PATTERN'],
    ['lookahead', { properties: { a: { type: 'string', pattern: '(?=a)a' } } }, 'UNSAFE_PATTERN'],
    ['invalid regex', { properties: { a: { type: 'string', pattern: '(' } } }, 'UNSAFE_PATTERN'],
    ['unsafe patternProperties key', { patternProperties: { '(x+)+': true } }, 'UNSAFE_PATTERN'],
    ['unknown format', { properties: { a: { type: 'string', format: 'email' } } }, 'UNKNOWN_FORMAT'],
    ['wrong type keyword value', { properties: { a: { type: 'strin' } } }, 'SCHEMA_COMPILE'],
    ['$ref to a missing $defs entry', { properties: { a: { $ref: '#/$defs/nope' } } }, 'SCHEMA_COMPILE'],
  ])('%s', (_name, schema, code) => {
    expect(codeOf(() => parseCatalogDocument(doc({}, schema)))).toBe(code);
  });

  it('a schema nested too deep', () => {
    let s: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 20; i++) s = { type: 'object', properties: { a: s } };
    expect(codeOf(() => parseCatalogDocument(doc({}, { properties: { x: s } })))).toBe('SCHEMA_TOO_DEEP');
  });

  it('a schema with too many subschemas, and a document too large', () => {
    const wide = Object.fromEntries(Array.from({ length: 1200 }, (_, i) => [`p${i}`, true]));
    expect(codeOf(() => parseCatalogDocument(doc({}, { properties: wide })))).toBe('SCHEMA_TOO_COMPLEX');
    expect(codeOf(() => parseCatalogDocument(doc({ description: 'x'.repeat(70_000) })))).toBe(
      'DOCUMENT_TOO_LARGE',
    );
  });

  it('$schema other than 2020-12, a missing or failing example, an unknown field', () => {
    expect(
      codeOf(() => parseCatalogDocument(doc({}, { $schema: 'http://json-schema.org/draft-07/schema#' }))),
    ).toBe('INVALID_DOCUMENT');
    expect(codeOf(() => parseCatalogDocument(doc({ examples: [] })))).toBe('INVALID_DOCUMENT');
    const bad = doc({ examples: [{ ...(doc().examples as object[])[0], metadata: {} }] });
    expect(codeOf(() => parseCatalogDocument(bad))).toBe('EXAMPLE_INVALID');
    expect(codeOf(() => parseCatalogDocument(doc({ extra: 1 })))).toBe('INVALID_DOCUMENT');
    expect(codeOf(() => parseCatalogDocument([]))).toBe('INVALID_DOCUMENT');
  });

  it('accepts the local $ref and the safe patterns the starter catalog needs', () => {
    const e = parseCatalogDocument(
      doc(
        {},
        {
          $defs: { id: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,62}$' } },
          properties: { metadata: { type: 'object', properties: { tool: { $ref: '#/$defs/id' } } } },
        },
      ),
    );
    expect(e.version).toBe(1);
  });
});

describe('unsafePatternReason', () => {
  it.each(['^[a-z]+$', '^sha256:[0-9a-f]{64}$', '^(ab)+$', '^(?:v[0-9])?x*$', '^a|b$', '[(+]+'])(
    'allows %s',
    (p) => expect(unsafePatternReason(p)).toBeUndefined(),
  );
  it.each(['(a+)+', '(a*)*', '((ab)*)+', '(a|b)+', '(\\w+\\s?)*', '(?:a{1,3}){2,}', '(a)\\1', '(?<=a)b'])(
    'refuses %s',
    (p) => expect(unsafePatternReason(p)).toBeDefined(),
  );
});
