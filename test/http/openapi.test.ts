import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EVENT_LIMITS, validateEvent } from '../../src/core/event.ts';
import type { Route } from '../../src/http/router.ts';
import { accessReviewRoutes } from '../../src/http/routes/access-reviews.ts';
import { adminRoutes } from '../../src/http/routes/admin.ts';
import { alertRoutes } from '../../src/http/routes/alerts.ts';
import { anchorRoutes } from '../../src/http/routes/anchors.ts';
import { catalogRoutes } from '../../src/http/routes/catalog.ts';
import { eventWriteRoutes } from '../../src/http/routes/events.ts';
import { exportRoutes } from '../../src/http/routes/exports.ts';
import { logHealthRoutes } from '../../src/http/routes/log-health.ts';
import { producerKeyRoutes } from '../../src/http/routes/producer-keys.ts';
import { producerRoutes } from '../../src/http/routes/producers.ts';
import { queryRoutes } from '../../src/http/routes/query.ts';
import { readRoutes } from '../../src/http/routes/read.ts';
import { roleRoutes } from '../../src/http/routes/roles.ts';
import { ruleRoutes } from '../../src/http/routes/rules.ts';
import { scimRoutes } from '../../src/http/routes/scim.ts';

// Route factories only read their deps when a request is handled, so empty
// deps are enough to list the routes they define.
const none = {} as never;
const routes: Route[] = [
  ...eventWriteRoutes(none),
  ...adminRoutes(none),
  ...ruleRoutes(none),
  ...alertRoutes(none),
  ...accessReviewRoutes(none),
  ...scimRoutes(none),
  ...roleRoutes(none),
  ...readRoutes(none),
  ...anchorRoutes(none),
  ...logHealthRoutes(none),
  ...queryRoutes(none),
  ...exportRoutes(none),
  ...catalogRoutes(none),
  ...producerRoutes(none),
  ...producerKeyRoutes(none),
];
const doc = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8')) as {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
};

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1', () => {
    expect(doc.openapi).toBe('3.1.0');
  });
  it.each(routes.map((r) => [r.method, r.pattern]))('documents %s %s', (method, pattern) => {
    const path = pattern.replace('{path+}', '{path}');
    expect(doc.paths[path]?.[method.toLowerCase()]).toBeDefined();
  });
});

describe('OpenAPI Event schema states the limits ingest enforces', () => {
  type Schema = { properties: Record<string, Schema>; maxLength?: number; pattern?: string; $ref?: string };
  const schemas = (doc as unknown as { components: { schemas: Record<string, Schema> } }).components.schemas;
  const event = schemas.Event as Schema;
  const prop = (s: Schema, ...keys: string[]): Schema =>
    keys.reduce<Schema>((at, k) => {
      const next = at.properties[k] as Schema;
      return next.$ref ? (schemas[next.$ref.split('/').pop() as string] as Schema) : next;
    }, s);

  it.each<[string[], number]>([
    [['id'], EVENT_LIMITS.id],
    [['actor', 'id'], EVENT_LIMITS.principalId],
    [['actor', 'name'], EVENT_LIMITS.name],
    [['actor', 'onBehalfOf', 'id'], EVENT_LIMITS.principalId],
    [['action'], EVENT_LIMITS.action],
    [['target', 'type'], EVENT_LIMITS.targetType],
    [['target', 'id'], EVENT_LIMITS.targetId],
    [['context', 'requestId'], EVENT_LIMITS.contextId],
    [['context', 'ip'], EVENT_LIMITS.ip],
    [['context', 'userAgent'], EVENT_LIMITS.userAgent],
    [['producer', 'stream'], EVENT_LIMITS.stream],
  ])('%j maxLength is %d', (keys, max) => {
    expect(prop(event, ...keys).maxLength).toBe(max);
  });

  it.each(['tool.call', 'agent.task_submit', 'tool-call', 'Tool.call', 'tool.', 'a.b.c'])(
    'action pattern agrees with validateEvent on %s',
    (action) => {
      const byDoc = new RegExp(prop(event, 'action').pattern as string).test(action);
      let byCode = true;
      try {
        validateEvent({
          occurredAt: '2026-03-01T12:00:00Z',
          actor: { type: 'agent', id: 'a' },
          action,
          outcome: 'success',
        });
      } catch {
        byCode = false;
      }
      expect(byDoc).toBe(byCode);
    },
  );
});
