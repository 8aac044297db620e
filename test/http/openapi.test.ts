import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Route } from '../../src/http/router.ts';
import { adminRoutes } from '../../src/http/routes/admin.ts';
import { anchorRoutes } from '../../src/http/routes/anchors.ts';
import { eventWriteRoutes } from '../../src/http/routes/events.ts';
import { exportRoutes } from '../../src/http/routes/exports.ts';
import { queryRoutes } from '../../src/http/routes/query.ts';
import { readRoutes } from '../../src/http/routes/read.ts';

// Route factories only read their deps when a request is handled, so empty
// deps are enough to list the routes they define.
const none = {} as never;
const routes: Route[] = [
  ...eventWriteRoutes(none),
  ...adminRoutes(none),
  ...readRoutes(none),
  ...anchorRoutes(none),
  ...queryRoutes(none),
  ...exportRoutes(none),
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
