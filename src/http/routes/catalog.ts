/** `GET /v1/catalog`, `GET /v1/catalog/{action}` (docs/events.md): the event catalog, for any principal. */
import type { StaticCatalogPolicy } from '../../app/catalog.ts';
import type { Route } from '../router.ts';
import { json } from '../types.ts';

export function catalogRoutes(deps: { catalog: Pick<StaticCatalogPolicy, 'list' | 'action'> }): Route[] {
  return [
    {
      method: 'GET',
      pattern: '/v1/catalog',
      auth: 'principal',
      async handle() {
        return json(200, deps.catalog.list());
      },
    },
    {
      method: 'GET',
      pattern: '/v1/catalog/{action}',
      auth: 'principal',
      async handle(req) {
        return json(200, deps.catalog.action(req.pathParams.action ?? ''));
      },
    },
  ];
}
