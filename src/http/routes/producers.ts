/**
 * `GET /v1/logs/{logId}/producers` (docs/events.md §Producer streams): the
 * log's producer streams — contiguous seq, open gaps, duplicates, resets,
 * last seen, heartbeat — for principals with `events:read` on the log.
 * Query: `limit` (1–100), `cursor` (the last stream of the previous page).
 */
import { AppError } from '../../app/errors.ts';
import type { PrincipalService } from '../../app/principals.ts';
import type { ProducerService } from '../../app/producers.ts';
import type { Route } from '../router.ts';
import { json } from '../types.ts';
import { logIdOf, principalOf } from './body.ts';

// A stream id, as Event v1 allows it (src/core/event.ts): printable ASCII, ≤ 128.
const STREAM_RE = /^[\x21-\x7e]{1,128}$/;

export function producerRoutes(deps: {
  producers: Pick<ProducerService, 'list'>;
  principals: Pick<PrincipalService, 'authorize'>;
}): Route[] {
  return [
    {
      method: 'GET',
      pattern: '/v1/logs/{logId}/producers',
      auth: 'principal',
      async handle(req) {
        const logId = logIdOf(req);
        deps.principals.authorize(principalOf(req), logId, 'events:read');
        for (const name of Object.keys(req.query))
          if (name !== 'limit' && name !== 'cursor')
            throw new AppError(
              'BAD_REQUEST',
              `unknown query parameter ${JSON.stringify(name.slice(0, 64))}; allowed: limit, cursor`,
              {
                path: `/query/${name.slice(0, 64)}`,
              },
            );
        const { limit: rawLimit, cursor } = req.query;
        let limit: number | undefined;
        if (rawLimit !== undefined) {
          if (!/^[0-9]{1,3}$/.test(rawLimit) || Number(rawLimit) < 1 || Number(rawLimit) > 100)
            throw new AppError('BAD_REQUEST', 'limit must be an integer from 1 to 100', {
              path: '/query/limit',
            });
          limit = Number(rawLimit);
        }
        if (cursor !== undefined && !STREAM_RE.test(cursor))
          throw new AppError('BAD_REQUEST', 'cursor must be a stream id from an earlier page', {
            path: '/query/cursor',
          });
        return json(
          200,
          await deps.producers.list(logId, {
            ...(limit !== undefined ? { limit } : {}),
            ...(cursor !== undefined ? { cursor } : {}),
          }),
        );
      },
    },
  ];
}
