// The OCSF mapping (docs/ocsf.md): every emitted event conforms to the JSON
// Schema derived from OCSF 1.1.0, for catalog actions and unknown ones alike.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { STARTER_CATALOG_DOCUMENTS } from '../../../src/compose/starter-catalog.ts';
import { Catalog } from '../../../src/core/catalog.ts';
import { ACTOR_TYPES, type AuditEvent, OUTCOMES, validateEvent } from '../../../src/core/event.ts';
import {
  defaultOcsfMapping,
  OCSF_CLASSES,
  OCSF_VERSION,
  type OcsfInput,
  resolveOcsfMapping,
  toOcsf,
} from '../../../src/core/ocsf/mapping.ts';
import { OCSF_SCHEMA_VERSION, ocsfProblems } from '../../../src/core/ocsf/validate.ts';

const catalog = Catalog.fromDocuments(STARTER_CATALOG_DOCUMENTS);
const HASH = 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=';

function input(event: AuditEvent, index = 7): OcsfInput {
  return {
    record: { logId: 'audit', index, receivedAt: '2026-03-01T12:00:01.234Z', submitter: 'svc-agents', event },
    leafHash: HASH,
  };
}

const principal = fc.record(
  {
    type: fc.constantFrom(...ACTOR_TYPES),
    id: fc.string({ minLength: 1, maxLength: 20 }),
    name: fc.string({ minLength: 1, maxLength: 20 }),
  },
  { requiredKeys: ['type', 'id'] },
);
const json = fc.jsonValue({ maxDepth: 2 });
const ACTIONS = [...catalog.actions(), 'doc.create', 'doc.read', 'doc.delete', 'x', 'billing.invoice.void'];

const event = fc
  .record(
    {
      id: fc.string({ minLength: 1, maxLength: 30 }),
      occurredAt: fc.integer({ min: 0, max: 253402300799000 }).map((ms) => new Date(ms).toISOString()),
      actor: fc.record(
        {
          type: fc.constantFrom(...ACTOR_TYPES),
          id: fc.string({ minLength: 1, maxLength: 20 }),
          name: fc.string({ minLength: 1, maxLength: 20 }),
          onBehalfOf: principal,
        },
        { requiredKeys: ['type', 'id'] },
      ),
      action: fc.constantFrom(...ACTIONS),
      target: fc.record(
        {
          type: fc.constantFrom('user', 'role', 'model', 'tool', 'doc', 'agent'),
          id: fc.string({ minLength: 1, maxLength: 20 }),
          name: fc.string({ minLength: 1, maxLength: 20 }),
        },
        { requiredKeys: ['type', 'id'] },
      ),
      outcome: fc.constantFrom(...OUTCOMES),
      changes: fc.record({ before: json, after: json }, { requiredKeys: [] }),
      context: fc.record(
        {
          requestId: fc.string({ minLength: 1, maxLength: 10 }),
          sessionId: fc.string({ minLength: 1, maxLength: 10 }),
          traceId: fc.string({ minLength: 1, maxLength: 10 }),
          ip: fc.ipV4(),
          userAgent: fc.string({ minLength: 1, maxLength: 10 }),
        },
        { requiredKeys: [] },
      ),
      metadata: fc.dictionary(
        fc.constantFrom('model', 'provider', 'rule', 'grantee', 'other'),
        fc.oneof(fc.string({ minLength: 0, maxLength: 8 }), fc.integer(), json),
      ),
      schemaVersion: fc.constantFrom(1, 2),
    },
    { requiredKeys: ['occurredAt', 'actor', 'action', 'outcome'] },
  )
  .filter((e) => {
    try {
      validateEvent(e);
      return true;
    } catch {
      return false;
    }
  }) as fc.Arbitrary<AuditEvent>;

describe('toOcsf', () => {
  it('derives from OCSF 1.1.0, the version Security Lake checks custom sources against', () => {
    expect(OCSF_VERSION).toBe('1.1.0');
    expect(OCSF_SCHEMA_VERSION).toBe(OCSF_VERSION);
  });

  it('maps every starter catalog example to its catalog class and a valid OCSF event', () => {
    for (const entry of catalog.entries())
      for (const ex of entry.examples) {
        const out = toOcsf(input(ex as unknown as AuditEvent), { catalog });
        expect(ocsfProblems(out), entry.action).toEqual([]);
        expect(out.class_uid).toBe(entry.ocsf.classUid);
        expect(out.activity_id).toBe(entry.ocsf.activityId);
        expect(out.type_uid).toBe(entry.ocsf.classUid * 100 + entry.ocsf.activityId);
      }
  });

  it('every catalog action names a class the mapper fills', () => {
    for (const entry of catalog.entries())
      expect(OCSF_CLASSES[entry.ocsf.classUid], entry.action).toBeDefined();
  });

  it('carries the proof handle, the time and the identity fields', () => {
    const ev = catalog.entry('model.invoke')?.examples[0] as unknown as AuditEvent;
    const out = toOcsf(input(ev, 42), { catalog, vendorName: 'Example Corp' });
    expect(out).toMatchObject({
      category_uid: 6,
      class_uid: 6003,
      activity_id: 99,
      type_uid: 600399,
      severity_id: 1,
      status_id: 1,
      time: Date.parse('2026-03-01T12:00:00.000Z'),
      actor: { user: { uid: 'agent-support-1', type_id: 99 } },
      api: { operation: 'model.invoke' },
      metadata: {
        version: '1.1.0',
        product: { name: 'anchorlog', vendor_name: 'Example Corp' },
        uid: 'audit/42',
        logged_time: Date.parse('2026-03-01T12:00:01.234Z'),
        sequence: 42,
      },
      unmapped: {
        'anchorlog.log_id': 'audit',
        'anchorlog.leaf_index': '42',
        'anchorlog.leaf_hash': HASH,
        'anchorlog.submitter': 'svc-agents',
        'ai_operation.ai_model.name': 'claude-sonnet',
        'ai_operation.ai_model.ai_provider': 'anthropic',
      },
    });
    expect(
      JSON.parse((out.unmapped as Record<string, string>)['anchorlog.actor_on_behalf_of'] as string),
    ).toEqual({
      type: 'human',
      id: 'u-1042',
    });
  });

  it('maps outcome to status and event id to metadata.uid', () => {
    const base = {
      occurredAt: '2026-03-01T12:00:00Z',
      actor: { type: 'human', id: 'u' },
      action: 'doc.read',
    } as const;
    expect(toOcsf(input({ ...base, id: 'e-1', outcome: 'denied' }))).toMatchObject({
      status_id: 2,
      status_detail: 'denied',
      metadata: { uid: 'e-1' },
    });
    expect(toOcsf(input({ ...base, outcome: 'failure' }))).toMatchObject({ status_id: 2 });
  });

  it('defaults unknown actions to API Activity with the activity of their verb', () => {
    expect(defaultOcsfMapping('doc.create')).toMatchObject({ classUid: 6003, activityId: 1 });
    expect(defaultOcsfMapping('doc.read')).toMatchObject({ activityId: 2 });
    expect(defaultOcsfMapping('doc.update')).toMatchObject({ activityId: 3 });
    expect(defaultOcsfMapping('doc.delete')).toMatchObject({ activityId: 4 });
    expect(defaultOcsfMapping('billing.invoice.void')).toMatchObject({ activityId: 99, activity: 'Other' });
    const ev: AuditEvent = {
      occurredAt: '2026-03-01T12:00:00Z',
      actor: { type: 'human', id: 'u' },
      action: 'x',
      outcome: 'success',
    };
    expect(resolveOcsfMapping(ev, catalog).source).toBe('default');
    expect(toOcsf(input(ev), { catalog }).unmapped).toMatchObject({ 'anchorlog.mapping': 'default' });
  });

  it('falls back to the default when a catalog names a class it cannot fill, and says which', () => {
    const odd = {
      entry: () => ({
        ocsf: {
          category: 'Network Activity',
          class: 'HTTP Activity',
          classUid: 4002,
          activity: 'Post',
          activityId: 6,
        },
      }),
    };
    const ev: AuditEvent = {
      occurredAt: '2026-03-01T12:00:00Z',
      actor: { type: 'human', id: 'u' },
      action: 'hook.get',
      outcome: 'success',
    };
    const out = toOcsf(input(ev), { catalog: odd });
    expect(out).toMatchObject({
      class_uid: 6003,
      activity_id: 2,
      unmapped: { 'anchorlog.catalog_class_uid': '4002' },
    });
    expect(ocsfProblems(out)).toEqual([]);
  });

  it('adds the cloud profile when a region and account are given', () => {
    const ev = catalog.entry('auth.signin')?.examples[0] as unknown as AuditEvent;
    const out = toOcsf(input(ev), { catalog, cloud: { region: 'eu-west-1', accountUid: '123456789012' } });
    expect(out).toMatchObject({
      cloud: { provider: 'AWS', region: 'eu-west-1', account: { uid: '123456789012' } },
      metadata: { profiles: ['cloud'] },
      src_endpoint: { ip: '203.0.113.7' },
    });
    expect(ocsfProblems(out)).toEqual([]);
  });

  it('every event of random records validates against the OCSF 1.1.0 schema (property)', () => {
    fc.assert(
      fc.property(event, fc.nat(), fc.boolean(), (ev, index, cloud) => {
        const out = toOcsf(input(ev, index), {
          catalog,
          ...(cloud ? { cloud: { region: 'us-east-1', accountUid: '111122223333' } } : {}),
        });
        expect(ocsfProblems(out)).toEqual([]);
        expect(out.type_uid).toBe((out.class_uid as number) * 100 + (out.activity_id as number));
        expect(out.unmapped).toMatchObject({
          'anchorlog.leaf_index': String(index),
          'anchorlog.leaf_hash': HASH,
        });
        // Deterministic, and plain JSON.
        expect(JSON.parse(JSON.stringify(out))).toEqual(
          toOcsf(input(ev, index), {
            catalog,
            ...(cloud ? { cloud: { region: 'us-east-1', accountUid: '111122223333' } } : {}),
          }),
        );
      }),
      { numRuns: 400 },
    );
  });

  it('the schema catches what it should: a missing required attribute, an undefined one, a wrong type_uid', () => {
    const ev = catalog.entry('access.grant')?.examples[0] as unknown as AuditEvent;
    const good = toOcsf(input(ev), { catalog });
    const { privileges: _p, ...noPrivileges } = good;
    expect(ocsfProblems(noPrivileges).length).toBeGreaterThan(0);
    expect(ocsfProblems({ ...good, api: { operation: 'x' }, bogus: 1 }).length).toBeGreaterThan(0);
    expect(ocsfProblems({ ...good, type_uid: 300577 }).length).toBeGreaterThan(0);
    expect(ocsfProblems({ ...good, type_uid: 300502 })).toMatchObject([{ path: '/type_uid' }]);
    expect(
      ocsfProblems({ ...good, metadata: { product: { name: 'a' }, version: '1.1.0' } }).length,
    ).toBeGreaterThan(0);
    expect(ocsfProblems({ ...good, class_uid: 9999 })).toMatchObject([{ path: '/class_uid' }]);
  });
});
