/**
 * Producer signing keys (`/v1/admin/principals/{id}/signing-keys`,
 * docs/producer-signatures.md §Registering keys): every change is recorded in
 * the `system` log first by ProducerKeyService.
 */
import type { ProducerKeyService } from '../../app/producer-keys.ts';
import type { Route } from '../router.ts';
import { json } from '../types.ts';
import { jsonBody, principalOf } from './body.ts';

export function producerKeyRoutes(deps: { producerKeys: ProducerKeyService }): Route[] {
  return [
    {
      method: 'GET',
      pattern: '/v1/admin/principals/{id}/signing-keys',
      auth: 'principal',
      async handle(req) {
        return json(200, await deps.producerKeys.list(principalOf(req), req.pathParams.id ?? ''));
      },
    },
    {
      method: 'POST',
      pattern: '/v1/admin/principals/{id}/signing-keys',
      auth: 'principal',
      async handle(req) {
        const r = await deps.producerKeys.register(principalOf(req), req.pathParams.id ?? '', jsonBody(req), {
          requestId: req.requestId,
        });
        return json(r.created ? 201 : 200, r);
      },
    },
    {
      method: 'POST',
      pattern: '/v1/admin/principals/{id}/signing-keys/{keyId}/revoke',
      auth: 'principal',
      async handle(req) {
        const body = req.body.length === 0 ? {} : jsonBody(req);
        const r = await deps.producerKeys.revoke(
          principalOf(req),
          req.pathParams.id ?? '',
          req.pathParams.keyId ?? '',
          body,
          { requestId: req.requestId },
        );
        return json(200, r);
      },
    },
  ];
}
