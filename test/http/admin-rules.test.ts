/**
 * `/v1/admin/rules…` through the real router, on the admin path as deployed:
 * RuleService over DynamoRuleStore, recording into the `system` log through
 * SystemLogAuditSink → IngestService → DynamoLogStore, all on one moto table.
 * Every change leaves exactly one `rule.*` record with the whole document
 * before and after; client input never gets a 5xx.
 */
import { readFileSync } from 'node:fs';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { N, S } from '../../src/adapters/aws/dynamo-items.ts';
import { type DynamoRuleStore, RULE_HEADS_PK } from '../../src/adapters/aws/dynamo-rule-store.ts';
import { AppError } from '../../src/app/errors.ts';
import type { AdminAuditSink } from '../../src/app/principals.ts';
import { RuleService, validateRuleDocument as validate } from '../../src/app/rules.ts';
import { RULE_KINDS } from '../../src/core/detect/rule.ts';
import type { Principal } from '../../src/core/principal.ts';
import { createRouter } from '../../src/http/router.ts';
import { ruleRoutes } from '../../src/http/routes/rules.ts';
import type { HttpRequest, HttpResponse } from '../../src/http/types.ts';
import { type RulesOnMoto, rulesOnMoto } from '../app/rules-moto.ts';
import { ruleInput } from '../app/rules-support.ts';

let env: RulesOnMoto;
let admin: Principal;
let store: DynamoRuleStore;
let rules: RuleService;

beforeAll(async () => {
  env = await rulesOnMoto('admin-rules');
  ({ admin, store } = env);
  // Without the system-log reader, as the admin function needs none to change rules.
  rules = new RuleService({ store, audit: env.sink, clock: env.clock });
});

interface Call {
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  principal?: Principal;
}

function request(c: Call): HttpRequest {
  const body =
    c.body === undefined
      ? new Uint8Array(0)
      : c.body instanceof Uint8Array
        ? c.body
        : new TextEncoder().encode(typeof c.body === 'string' ? c.body : JSON.stringify(c.body));
  return {
    method: c.method,
    path: c.path,
    headers: { ...(c.body !== undefined ? { 'content-type': 'application/json' } : {}), ...c.headers },
    query: c.query ?? {},
    pathParams: {},
    body,
    principal: c.principal ?? admin,
    requestId: 'req-rules',
  };
}

async function call(c: Call, service = rules): Promise<HttpResponse & { json: Record<string, unknown> }> {
  const res = await createRouter(ruleRoutes({ rules: service }), { authenticate: async () => admin })(
    request(c),
  );
  return { ...res, json: JSON.parse(String(res.body)) as Record<string, unknown> };
}

const ruleRecords = async (id: string) =>
  (await env.records()).filter((r) => r.event.target?.type === 'rule' && r.event.target.id === id);

describe('PUT, GET, history, enable, disable', () => {
  it('a rule’s life: each change is one system-log record with the whole document before and after', async () => {
    const created = await call({
      method: 'PUT',
      path: '/v1/admin/rules/ai.export',
      body: ruleInput('ai.export'),
    });
    expect(created.status).toBe(201);
    expect(created.headers.etag).toBe('"1"');
    expect(created.headers['cache-control']).toBe('no-store');
    expect(created.json).toMatchObject({
      changed: true,
      created: true,
      rule: { id: 'ai.export', version: 1, enabled: true, logs: ['*'] },
      change: { action: 'rule.create', by: 'ops-admin', eventId: 'rule/ai.export/v1' },
    });

    const stale = await call({
      method: 'PUT',
      path: '/v1/admin/rules/ai.export',
      body: ruleInput('ai.export', 2, { severity: 'low' }),
      headers: { 'if-match': '"7"' },
    });
    expect(stale.status).toBe(409);
    const updated = await call({
      method: 'PUT',
      path: '/v1/admin/rules/ai.export',
      body: ruleInput('ai.export', 2, { severity: 'critical' }),
      headers: { 'if-match': '"1"' },
    });
    expect([updated.status, updated.headers.etag]).toEqual([200, '"2"']);
    const skipped = await call({
      method: 'PUT',
      path: '/v1/admin/rules/ai.export',
      body: ruleInput('ai.export', 4),
    });
    expect(skipped.status).toBe(409);

    const disabled = await call({ method: 'POST', path: '/v1/admin/rules/ai.export/disable' });
    expect(disabled.json).toMatchObject({ changed: true, rule: { version: 3, enabled: false } });
    const again = await call({ method: 'POST', path: '/v1/admin/rules/ai.export/disable' });
    expect(again.json).toMatchObject({ changed: false, rule: { version: 3 } });
    const enabled = await call({
      method: 'POST',
      path: '/v1/admin/rules/ai.export/enable',
      headers: { 'if-match': '3' },
    });
    expect(enabled.json).toMatchObject({ changed: true, rule: { version: 4, enabled: true } });

    const got = await call({ method: 'GET', path: '/v1/admin/rules/ai.export' });
    expect([got.status, got.headers.etag]).toEqual([200, '"4"']);
    const v2 = await call({ method: 'GET', path: '/v1/admin/rules/ai.export', query: { version: '2' } });
    expect(v2.json).toMatchObject({
      rule: { version: 2, severity: 'critical' },
      change: { action: 'rule.update' },
    });
    const history = await call({
      method: 'GET',
      path: '/v1/admin/rules/ai.export/history',
      query: { limit: '3' },
    });
    expect((history.json.versions as { rule: { version: number } }[]).map((v) => v.rule.version)).toEqual([
      4, 3, 2,
    ]);
    const rest = await call({
      method: 'GET',
      path: '/v1/admin/rules/ai.export/history',
      query: { limit: '3', cursor: String(history.json.cursor) },
    });
    expect((rest.json.versions as { rule: { version: number } }[]).map((v) => v.rule.version)).toEqual([1]);

    const records = await ruleRecords('ai.export');
    expect(records.map((r) => [r.event.id, r.event.action, r.submitter])).toEqual([
      ['rule/ai.export/v1', 'rule.create', 'ops-admin'],
      ['rule/ai.export/v2', 'rule.update', 'ops-admin'],
      ['rule/ai.export/v3', 'rule.disable', 'ops-admin'],
      ['rule/ai.export/v4', 'rule.enable', 'ops-admin'],
    ]);
    const versions = (history.json.versions as { rule: unknown }[]).map((v) => v.rule).reverse();
    expect(records[1]?.event.changes).toEqual({ before: created.json.rule, after: versions[0] });
    expect(records[3]?.event.changes?.after).toEqual(got.json.rule);
    // Each version says where its record is.
    const v4 = got.json.change as { recorded: { index: number } };
    expect(v4.recorded.index).toBe(records[3]?.index);
  });

  it('lists rules in id order with a cursor; unknown rules and versions are 404', async () => {
    for (const id of ['list-b', 'list-a'])
      expect((await call({ method: 'PUT', path: `/v1/admin/rules/${id}`, body: ruleInput(id) })).status).toBe(
        201,
      );
    const all: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await call({
        method: 'GET',
        path: '/v1/admin/rules',
        query: { limit: '1', ...(cursor ? { cursor } : {}) },
      });
      expect(page.status).toBe(200);
      all.push(...(page.json.rules as { rule: { id: string } }[]).map((r) => r.rule.id));
      cursor = page.json.cursor as string | undefined;
    } while (cursor);
    expect(all.filter((id) => id.startsWith('list-'))).toEqual(['list-a', 'list-b']);
    expect((await call({ method: 'GET', path: '/v1/admin/rules/nope' })).status).toBe(404);
    expect((await call({ method: 'GET', path: '/v1/admin/rules/nope/history' })).status).toBe(404);
    expect((await call({ method: 'POST', path: '/v1/admin/rules/nope/enable' })).status).toBe(404);
    expect(
      (await call({ method: 'GET', path: '/v1/admin/rules/list-a', query: { version: '2' } })).status,
    ).toBe(404);
  });

  it('If-None-Match: * creates only', async () => {
    const first = await call({
      method: 'PUT',
      path: '/v1/admin/rules/once',
      body: ruleInput('once'),
      headers: { 'if-none-match': '*' },
    });
    expect(first.status).toBe(201);
    const second = await call({
      method: 'PUT',
      path: '/v1/admin/rules/once',
      body: ruleInput('once', 2, { title: 'again' }),
      headers: { 'if-none-match': '*' },
    });
    expect(second.status).toBe(409);
  });

  it('needs admin on *, and records nothing when refused', async () => {
    const { principal: tenantAdmin } = await env.principals.create(admin, {
      name: 'Tenant admin',
      kind: 'human',
      owner: 'o@example.com',
      purpose: 'administers tenant-a',
      scopes: { 'tenant-a': ['admin'] },
    });
    const res = await call({
      method: 'PUT',
      path: '/v1/admin/rules/forbidden',
      body: ruleInput('forbidden'),
      principal: tenantAdmin,
    });
    expect(res.status).toBe(403);
    for (const path of ['/v1/admin/rules', '/v1/admin/rules/ai.export', '/v1/admin/rules/ai.export/history'])
      expect((await call({ method: 'GET', path, principal: tenantAdmin })).status).toBe(403);
    expect(await ruleRecords('forbidden')).toEqual([]);
  });
});

describe('invalid rules and garbage: 4xx with where, never 5xx', () => {
  it('an invalid expression is 400 with the RuleError code, the JSON pointer and the position', async () => {
    const res = await call({
      method: 'PUT',
      path: '/v1/admin/rules/bad-expr',
      body: ruleInput('bad-expr', 1, {
        match: "event.action == 'data.export' &&\n  evnt.outcome == 'success'",
      }),
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({
      code: 'BAD_REQUEST',
      reason: 'UNKNOWN_VARIABLE',
      path: '/match',
      position: { line: 2, column: 3, offset: 35 },
      requestId: 'req-rules',
    });
    const json = await call({
      method: 'PUT',
      path: '/v1/admin/rules/bad-json',
      body: '{\n  "id": "bad-json",\n  oops\n}',
    });
    expect(json.json.error).toMatchObject({
      code: 'BAD_REQUEST',
      reason: 'INVALID_JSON',
      position: { line: 3 },
    });
    const typo = await call({
      method: 'PUT',
      path: '/v1/admin/rules/typo',
      body: { ...ruleInput('typo'), treshold: 1 },
    });
    expect(typo.json.error).toMatchObject({ reason: 'UNKNOWN_FIELD', path: '/treshold' });
    expect(await ruleRecords('bad-expr')).toEqual([]);
  });

  it.each<[string, Call, number]>([
    [
      'no content type',
      { method: 'PUT', path: '/v1/admin/rules/g', body: '{}', headers: { 'content-type': 'text/plain' } },
      415,
    ],
    ['an empty body', { method: 'PUT', path: '/v1/admin/rules/g', body: '' }, 400],
    ['a JSON array', { method: 'PUT', path: '/v1/admin/rules/g', body: '[1,2]' }, 400],
    ['a JSON string', { method: 'PUT', path: '/v1/admin/rules/g', body: '"rule"' }, 400],
    [
      'invalid UTF-8',
      { method: 'PUT', path: '/v1/admin/rules/g', body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]) },
      400,
    ],
    [
      'deep nesting',
      { method: 'PUT', path: '/v1/admin/rules/g', body: `${'['.repeat(5000)}${']'.repeat(5000)}` },
      400,
    ],
    ['100 KB', { method: 'PUT', path: '/v1/admin/rules/g', body: `{"title":"${'x'.repeat(100_000)}"}` }, 400],
    ['a bad rule id', { method: 'PUT', path: '/v1/admin/rules/Bad%20Id', body: ruleInput('g') }, 400],
    ['a bad percent-encoding', { method: 'GET', path: '/v1/admin/rules/%E0%A4%A' }, 400],
    [
      'If-Match garbage',
      { method: 'PUT', path: '/v1/admin/rules/g', body: ruleInput('g'), headers: { 'if-match': 'abc' } },
      400,
    ],
    [
      'If-None-Match not *',
      { method: 'PUT', path: '/v1/admin/rules/g', body: ruleInput('g'), headers: { 'if-none-match': '"1"' } },
      400,
    ],
    ['limit not a number', { method: 'GET', path: '/v1/admin/rules', query: { limit: 'ten' } }, 400],
    ['limit 0', { method: 'GET', path: '/v1/admin/rules', query: { limit: '0' } }, 400],
    ['limit 1000', { method: 'GET', path: '/v1/admin/rules', query: { limit: '1000' } }, 400],
    ['a foreign cursor', { method: 'GET', path: '/v1/admin/rules', query: { cursor: '!!!' } }, 400],
    [
      'a foreign history cursor',
      { method: 'GET', path: '/v1/admin/rules/ai.export/history', query: { cursor: 'eA' } },
      400,
    ],
    ['version -1', { method: 'GET', path: '/v1/admin/rules/ai.export', query: { version: '-1' } }, 400],
    ['version 0', { method: 'GET', path: '/v1/admin/rules/ai.export', query: { version: '0' } }, 400],
    [
      'version huge',
      { method: 'GET', path: '/v1/admin/rules/ai.export', query: { version: '99999999999999' } },
      400,
    ],
    ['DELETE', { method: 'DELETE', path: '/v1/admin/rules/ai.export' }, 400],
  ])('%s → %d', async (_what, c, status) => {
    const res = await call(c);
    expect(res.status).toBe(status);
    expect((res.json.error as { code: string }).code).toBeDefined();
  });

  it('arbitrary bodies, headers and query strings never get a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
          fc
            .record({ title: fc.string(), match: fc.string(), version: fc.integer(), kind: fc.string() })
            .map((o) => JSON.stringify({ ...ruleInput('fuzz'), ...o })),
          fc.string().map((match) => JSON.stringify(ruleInput('fuzz', 1, { match }))),
        ),
        fc.constantFrom('fuzz', 'ai.export', 'x'.repeat(200), '..', 'a%2Fb'),
        fc.option(fc.string({ maxLength: 20 })),
        fc.option(fc.string({ maxLength: 20 })),
        async (body, id, ifMatch, limit) => {
          const calls: Call[] = [
            {
              method: 'PUT',
              path: `/v1/admin/rules/${id}`,
              body,
              ...(ifMatch !== null ? { headers: { 'if-match': ifMatch } } : {}),
            },
            {
              method: 'GET',
              path: `/v1/admin/rules/${id}/history`,
              query: limit !== null ? { limit, cursor: limit } : {},
            },
          ];
          for (const c of calls) {
            const res = await call(c);
            expect(res.status, `${c.method} ${c.path}: ${String(res.body)}`).toBeLessThan(500);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('a crash between the store write and the audit record', () => {
  it('the system log down after STAGE: 503, not in effect, no record; recovery completes it with one record', async () => {
    await call({ method: 'PUT', path: '/v1/admin/rules/crash', body: ruleInput('crash') });
    let down = true;
    const flaky: AdminAuditSink = {
      record: async (e) => {
        if (down) throw new AppError('UNAVAILABLE', 'system log down', { retryAfterSeconds: 2 });
        return env.sink.record(e);
      },
    };
    const flakyRules = new RuleService({ store, audit: flaky, clock: env.clock });
    const refused = await call(
      { method: 'PUT', path: '/v1/admin/rules/crash', body: ruleInput('crash', 2, { severity: 'critical' }) },
      flakyRules,
    );
    expect([refused.status, refused.headers['retry-after']]).toEqual([503, '2']);
    const during = await call({ method: 'GET', path: '/v1/admin/rules/crash' });
    expect(during.json).toMatchObject({
      rule: { version: 1, severity: 'high' },
      pending: { version: 2, action: 'rule.update' },
    });
    expect((await rules.committedRules()).find((d) => d.id === 'crash')?.version).toBe(1);
    expect((await ruleRecords('crash')).map((r) => r.event.id)).toEqual(['rule/crash/v1']);

    // A crash after the record landed: the sink wrote it, the caller never heard.
    down = false;
    const landed: AdminAuditSink = {
      record: async (e) => {
        await env.sink.record(e);
        throw new Error('socket hang up');
      },
    };
    await new RuleService({ store, audit: landed, clock: env.clock }).recoverPending();
    expect((await ruleRecords('crash')).map((r) => r.event.id)).toEqual(['rule/crash/v1', 'rule/crash/v2']);
    expect((await store.get('crash'))?.pending).toBeDefined();

    expect(await rules.recoverPending()).toEqual({ completed: 1, failed: 0 });
    const after = await call({ method: 'GET', path: '/v1/admin/rules/crash' });
    expect(after.json).toMatchObject({ rule: { version: 2, severity: 'critical' } });
    expect(after.json.pending).toBeUndefined();
    const records = await ruleRecords('crash');
    expect(records.map((r) => r.event.id)).toEqual(['rule/crash/v1', 'rule/crash/v2']);
    expect(records[1]?.event.changes?.after).toEqual(after.json.rule);
  });
});

describe('boundRules on the real system log', () => {
  it('a head rolled back to an older, genuinely recorded version is refused as superseded', async () => {
    const bound = new RuleService({ store, audit: env.sink, auditLog: env.auditLog, clock: env.clock });
    await bound.put(admin, 'rolled', ruleInput('rolled'));
    const v1 = (await store.get('rolled'))?.current;
    await bound.setEnabled(admin, 'rolled', false);
    expect((await bound.boundRules()).unbound.filter((u) => u.id === 'rolled')).toEqual([]);
    // The admin role's credentials put version 1 back as the head (re-enabling the rule unaudited).
    await env.ddb.send(
      new PutItemCommand({
        TableName: env.table,
        Item: { pk: S(RULE_HEADS_PK), sk: S('rolled'), ver: N(1), cur: S(JSON.stringify(v1)) },
      }),
    );
    const { rules: loaded, unbound } = await bound.boundRules();
    expect(loaded.find((d) => d.id === 'rolled')).toBeUndefined();
    expect(unbound.filter((u) => u.id === 'rolled')).toEqual([
      {
        id: 'rolled',
        version: 1,
        reason: 'superseded',
        detail: expect.stringContaining('version 2 is recorded'),
      },
    ]);
  });
});

describe('docs/openapi.json', () => {
  it('the Rule schema names exactly the fields and kinds the rule parser accepts', () => {
    const doc = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8'));
    const rule = doc.components.schemas.Rule as { properties: Record<string, { enum?: string[] }> };
    expect(rule.properties.kind?.enum).toEqual([...RULE_KINDS]);
    // Every documented field is accepted (a value of the wrong type is INVALID_FIELD, never UNKNOWN_FIELD)…
    for (const field of Object.keys(rule.properties)) {
      const err = (() => {
        try {
          validate({ ...ruleInput('f'), [field]: Symbol.for('x') });
        } catch (e) {
          return e as AppError;
        }
        return undefined;
      })();
      expect([field, err?.details?.reason]).not.toEqual([field, 'UNKNOWN_FIELD']);
    }
    // …and every field the parser allows (its UNKNOWN_FIELD message lists them) is documented.
    const unknown = (() => {
      try {
        validate({ ...ruleInput('f'), 'no-such-field': 1 });
      } catch (e) {
        return (e as AppError).message;
      }
      return '';
    })();
    const allowed = /allowed: ([^(]+)/.exec(unknown)?.[1]?.trim().split(', ') ?? [];
    expect(allowed.length).toBeGreaterThan(10);
    expect(Object.keys(rule.properties).sort()).toEqual(allowed.sort());
  });
});
