/**
 * Which Lambda serves which HTTP route (docs/architecture.md §Routes → functions). The HTTP API creates
 * exactly these routes; everything else is a 404 from API Gateway itself.
 * The stack deploys every function of `API_FUNCTIONS` (cdk/anchorlog-stack.ts),
 * each from lambdas/<function>.ts, and refuses to synthesize when that file is
 * missing. test/cdk/routes.test.ts checks this table against the route tables
 * in src/http/routes/ and the synthesized API.
 */
export type ApiFunction = 'ingest' | 'read' | 'admin' | 'query' | 'export' | 'reindex';

/** `METHOD /path`, with HTTP API path variables (`{name}`, greedy `{name+}`). */
export type RouteKey = `${'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'} /${string}`;

export const API_ROUTES: Record<ApiFunction, readonly RouteKey[]> = {
  ingest: ['POST /v1/logs/{logId}/events', 'GET /v1/logs/{logId}/receipts'],
  read: [
    'GET /v1/logs/{logId}/checkpoint',
    'GET /v1/logs/{logId}/tile/{path+}',
    'GET /v1/logs/{logId}/proof/inclusion',
    'GET /v1/logs/{logId}/proof/consistency',
    'GET /v1/logs/{logId}/anchors',
    'GET /v1/keys',
    'GET /v1/catalog',
    'GET /v1/catalog/{action}',
    'GET /v1/logs/{logId}/producers',
    'GET /v1/logs/{logId}/health',
  ],
  admin: [
    'POST /v1/admin/principals',
    'GET /v1/admin/principals',
    'GET /v1/admin/principals/{id}',
    'PATCH /v1/admin/principals/{id}',
    'POST /v1/admin/principals/{id}/rotate',
    'POST /v1/admin/principals/{id}/revoke',
    'GET /v1/admin/principals/{id}/signing-keys',
    'POST /v1/admin/principals/{id}/signing-keys',
    'POST /v1/admin/principals/{id}/signing-keys/{keyId}/revoke',
    'PUT /v1/admin/logs/{logId}',
    'GET /v1/admin/logs/{logId}/policy',
    'PUT /v1/admin/logs/{logId}/policy',
    'PUT /v1/admin/rules/{id}',
    'GET /v1/admin/rules/{id}',
    'GET /v1/admin/rules',
    'GET /v1/admin/rules/{id}/history',
    'POST /v1/admin/rules/{id}/enable',
    'POST /v1/admin/rules/{id}/disable',
    'GET /v1/admin/alerts',
    'GET /v1/admin/alerts/report',
    'GET /v1/admin/alerts/{id}',
    'POST /v1/admin/alerts/{id}/ack',
    'POST /v1/admin/alerts/{id}/resolve',
    'POST /v1/admin/alerts/{id}/reopen',
    'PUT /v1/admin/roles/{id}',
    'GET /v1/admin/roles/{id}',
    'GET /v1/admin/roles',
    'GET /v1/admin/roles/{id}/history',
    'GET /v1/admin/drift',
    'GET /v1/admin/access-reviews',
    'POST /v1/admin/access-reviews',
    'GET /v1/admin/access-reviews/{id}',
    'POST /v1/admin/access-reviews/{id}/decisions',
    'POST /v1/admin/access-reviews/{id}/close',
    'GET /v1/admin/access-reviews/{id}/report',
    'POST /scim/v2/Users',
    'GET /scim/v2/Users',
    'GET /scim/v2/Users/{id}',
    'PUT /scim/v2/Users/{id}',
    'PATCH /scim/v2/Users/{id}',
    'DELETE /scim/v2/Users/{id}',
    'POST /scim/v2/Groups',
    'GET /scim/v2/Groups',
    'GET /scim/v2/Groups/{id}',
    'PUT /scim/v2/Groups/{id}',
    'PATCH /scim/v2/Groups/{id}',
    'DELETE /scim/v2/Groups/{id}',
    'GET /scim/v2/ServiceProviderConfig',
    'GET /scim/v2/ResourceTypes',
    'GET /scim/v2/ResourceTypes/{id}',
    'GET /scim/v2/Schemas',
    'GET /scim/v2/Schemas/{id}',
  ],
  query: ['GET /v1/logs/{logId}/events', 'POST /v1/logs/{logId}/sql'],
  export: ['POST /v1/logs/{logId}/exports'],
  // The one API route that writes the columnar index (docs/query.md §7): a function of its own,
  // so the query function stays read-only on the index bucket.
  reindex: ['POST /v1/logs/{logId}/index/rebuild'],
};

/** Routes API Gateway lets through without the authorizer (the verifier keys are public). */
export const PUBLIC_ROUTES: ReadonlySet<RouteKey> = new Set<RouteKey>(['GET /v1/keys']);
