/**
 * The API Gateway route table (cdk/routes.ts) against the application's own
 * route tables (src/http/routes/): every route the app serves is reachable
 * through API Gateway, on the function that mounts it, authorized exactly
 * when the app requires a principal. Pure: no synthesis.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_FUNCTIONS } from '../../cdk/anchorlog-stack.ts';
import { API_ROUTES, type ApiFunction, PUBLIC_ROUTES, type RouteKey } from '../../cdk/routes.ts';
import type { Route } from '../../src/http/router.ts';
import { accessReviewRoutes } from '../../src/http/routes/access-reviews.ts';
import { adminRoutes } from '../../src/http/routes/admin.ts';
import { alertRoutes } from '../../src/http/routes/alerts.ts';
import { anchorRoutes } from '../../src/http/routes/anchors.ts';
import { catalogRoutes } from '../../src/http/routes/catalog.ts';
import { eventWriteRoutes } from '../../src/http/routes/events.ts';
import { exportRoutes } from '../../src/http/routes/exports.ts';
import { logHealthRoutes } from '../../src/http/routes/log-health.ts';
import { logPolicyRoutes } from '../../src/http/routes/log-policy.ts';
import { producerKeyRoutes } from '../../src/http/routes/producer-keys.ts';
import { producerRoutes } from '../../src/http/routes/producers.ts';
import { queryRoutes } from '../../src/http/routes/query.ts';
import { readRoutes } from '../../src/http/routes/read.ts';
import { roleRoutes } from '../../src/http/routes/roles.ts';
import { ruleRoutes } from '../../src/http/routes/rules.ts';
import { scimRoutes } from '../../src/http/routes/scim.ts';
import { indexRebuildRoutes, sqlRoutes } from '../../src/http/routes/sql.ts';

// Route factories only close over their dependencies; building the tables calls none of them.
const stub = {} as never;

/** Which app route factories each deployed function is meant to mount. */
const FACTORIES: Partial<Record<ApiFunction, Record<string, Route[]>>> = {
  ingest: { eventWriteRoutes: eventWriteRoutes(stub) },
  read: {
    readRoutes: readRoutes(stub),
    anchorRoutes: anchorRoutes(stub),
    catalogRoutes: catalogRoutes(stub),
    producerRoutes: producerRoutes(stub),
    logHealthRoutes: logHealthRoutes(stub),
  },
  admin: {
    adminRoutes: adminRoutes(stub),
    ruleRoutes: ruleRoutes(stub),
    alertRoutes: alertRoutes(stub),
    roleRoutes: roleRoutes(stub),
    accessReviewRoutes: accessReviewRoutes(stub),
    producerKeyRoutes: producerKeyRoutes(stub),
    logPolicyRoutes: logPolicyRoutes(stub),
    scimRoutes: scimRoutes(stub),
  },
  query: { queryRoutes: queryRoutes(stub), sqlRoutes: sqlRoutes(stub) },
  export: { exportRoutes: exportRoutes(stub) },
  reindex: { indexRebuildRoutes: indexRebuildRoutes(stub) },
};

/** The composition function (src/compose/<file>) each API Lambda builds its routes with. */
const COMPOSED: Record<ApiFunction, readonly [file: string, fn: string]> = {
  ingest: ['ingest.ts', 'ingestApi'],
  read: ['read.ts', 'readApi'],
  admin: ['principals.ts', 'adminApi'],
  query: ['query.ts', 'queryApi'],
  export: ['export.ts', 'exportApi'],
  reindex: ['query.ts', 'reindexApi'],
};

/** The text of `export [async] function <name>` in `source`, up to the next top-level export. */
function functionText(source: string, name: string): string {
  const start = source.search(new RegExp(`^export (async )?function ${name}\\b`, 'm'));
  if (start < 0) return '';
  const next = source.slice(start + 1).search(/^export /m);
  return next < 0 ? source.slice(start) : source.slice(start, start + 1 + next);
}

/**
 * Factories whose routes API Gateway already sends to a function whose
 * handler does not mount them yet (the handler answers 404). Listed so the
 * gap is visible; remove an entry when the handler mounts the factory.
 */
const NOT_YET_MOUNTED: Partial<Record<ApiFunction, string[]>> = {};

const keyOf = (r: Route) => `${r.method} ${r.pattern}` as RouteKey;

describe('API Gateway routes ⇄ application routes', () => {
  it.each(API_FUNCTIONS)('%s: API Gateway routes are exactly the routes its factories define', (name) => {
    const appRoutes = Object.values(FACTORIES[name] ?? {}).flat();
    expect([...API_ROUTES[name]].sort()).toEqual(appRoutes.map(keyOf).sort());
  });

  it('a route bypasses the authorizer exactly when the application marks it public', () => {
    const all = Object.values(FACTORIES).flatMap((f) => Object.values(f ?? {}).flat());
    const publicInApp = all
      .filter((r) => r.auth === 'public')
      .map(keyOf)
      .sort();
    expect([...PUBLIC_ROUTES].sort()).toEqual(publicInApp);
  });

  it('no route is served by two functions', () => {
    const keys = Object.values(API_ROUTES).flat();
    expect(new Set(keys).size).toBe(keys.length);
  });

  it.each(API_FUNCTIONS)('lambdas/%s.ts mounts the route factories API Gateway sends it', (name) => {
    const handler = readFileSync(new URL(`../../lambdas/${name}.ts`, import.meta.url), 'utf8');
    const [file, fn] = COMPOSED[name];
    expect(handler, `lambdas/${name}.ts should build its routes with ${fn}`).toContain(`${fn}(`);
    const composed = functionText(
      readFileSync(new URL(`../../src/compose/${file}`, import.meta.url), 'utf8'),
      fn,
    );
    expect(composed, `src/compose/${file} should define ${fn}`).not.toBe('');
    const pending = NOT_YET_MOUNTED[name] ?? [];
    for (const factory of Object.keys(FACTORIES[name] ?? {}))
      if (!pending.includes(factory)) expect(composed, `${fn} should mount ${factory}`).toContain(factory);
  });
});
