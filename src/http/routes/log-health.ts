/**
 * `GET /v1/logs/{logId}/health` (docs/api.md): one log's sealing health —
 * sealed size and checkpoint age, seal lag against its threshold, and the
 * halt, if sealing has stopped (src/app/log-health.ts). Scope `proofs:read`,
 * like the checkpoint and anchors it sits beside: it tells how far sealing
 * has got, not what any record says. Parse → readLogHealth → map.
 */
import { type LogHealthDeps, readLogHealth } from '../../app/log-health.ts';
import type { PrincipalService } from '../../app/principals.ts';
import type { Route } from '../router.ts';
import { json } from '../types.ts';
import { logIdOf, principalOf } from './body.ts';

export function logHealthRoutes(
  deps: LogHealthDeps & { readonly principals: Pick<PrincipalService, 'authorize'> },
): Route[] {
  return [
    {
      method: 'GET',
      pattern: '/v1/logs/{logId}/health',
      auth: 'principal',
      async handle(req) {
        const logId = logIdOf(req);
        deps.principals.authorize(principalOf(req), logId, 'proofs:read');
        return json(200, await readLogHealth(deps, logId));
      },
    },
  ];
}
