/** `POST /v1/logs/{logId}/events` (docs/ingest.md §1): authenticate → authorize → append → receipts. */
import { AppError } from '../../app/errors.ts';
import type { IngestService } from '../../app/ingest.ts';
import { KeyedSerializer } from '../../app/keyed-serializer.ts';
import type { PrincipalService } from '../../app/principals.ts';
import { IDEMPOTENCY_KEY_RULE, isValidIdempotencyKey } from '../../core/names.ts';
import type { Route } from '../router.ts';
import { json } from '../types.ts';
import { logIdOf, principalOf, requireJson } from './body.ts';

export function eventWriteRoutes(deps: { ingest: IngestService; principals: PrincipalService }): Route[] {
  // One append per log at a time in this process (see KeyedSerializer).
  const perLog = new KeyedSerializer();
  return [
    {
      method: 'POST',
      pattern: '/v1/logs/{logId}/events',
      auth: 'principal',
      async handle(req) {
        const logId = logIdOf(req);
        const principal = principalOf(req);
        deps.principals.authorize(principal, logId, 'events:write');
        requireJson(req);
        const idempotencyKey = req.headers['idempotency-key'];
        if (idempotencyKey !== undefined && !isValidIdempotencyKey(idempotencyKey)) {
          throw new AppError('BAD_REQUEST', IDEMPOTENCY_KEY_RULE, {
            path: '/headers/idempotency-key',
          });
        }
        const result = await perLog.run(logId, () =>
          deps.ingest.append({
            logId,
            submitter: principal.id,
            body: req.body,
            ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
          }),
        );
        return json(
          result.status,
          { receipts: result.receipts },
          result.replay ? { 'idempotent-replayed': 'true' } : {},
        );
      },
    },
  ];
}
