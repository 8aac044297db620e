/**
 * Per-log policy (`/v1/admin/logs/{logId}/policy`, docs/api.md): catalog
 * mode and signature requirement; every change is recorded in the `system`
 * log first by LogPolicyService (src/app/log-policy.ts).
 */
import type { LogPolicyService } from '../../app/log-policy.ts';
import type { Route } from '../router.ts';
import { json } from '../types.ts';
import { jsonBody, logIdOf, principalOf } from './body.ts';

export function logPolicyRoutes(deps: { logPolicy: LogPolicyService }): Route[] {
  return [
    {
      method: 'GET',
      pattern: '/v1/admin/logs/{logId}/policy',
      auth: 'principal',
      async handle(req) {
        return json(200, await deps.logPolicy.get(principalOf(req), logIdOf(req)));
      },
    },
    {
      method: 'PUT',
      pattern: '/v1/admin/logs/{logId}/policy',
      auth: 'principal',
      async handle(req) {
        const r = await deps.logPolicy.set(principalOf(req), logIdOf(req), jsonBody(req), {
          requestId: req.requestId,
        });
        return json(200, r);
      },
    },
  ];
}
