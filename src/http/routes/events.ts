/**
 * `POST /v1/logs/{logId}/events` (docs/ingest.md §1): authenticate → authorize → append → receipts,
 * and `GET /v1/logs/{logId}/receipts?ids=` for requests answered 202 (docs/ingest.md §9).
 */
import { AppError } from '../../app/errors.ts';
import type { IngestService } from '../../app/ingest.ts';
import { KeyedSerializer } from '../../app/keyed-serializer.ts';
import type { PrincipalService } from '../../app/principals.ts';
import { IDEMPOTENCY_KEY_RULE, isValidIdempotencyKey } from '../../core/names.ts';
import type { Route } from '../router.ts';
import { json } from '../types.ts';
import { logIdOf, principalOf, requireJson } from './body.ts';

/** Most accept ids one receipts lookup takes. */
export const MAX_RECEIPT_IDS = 100;

/**
 * `Prefer: wait=N` (RFC 7240 preference, seconds, integer; above 20 is taken as 20, inside API Gateway's 29 s limit) as ms;
 * undefined when absent or when the header names no wait (the default applies).
 */
export function preferWaitMs(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(/[,;]/)) {
    const m = /^\s*wait\s*=\s*"?(\d{1,6})"?\s*$/i.exec(part);
    if (m) return Math.min(20, Number(m[1])) * 1000;
  }
  return undefined;
}

export function eventWriteRoutes(deps: { ingest: IngestService; principals: PrincipalService }): Route[] {
  // Direct path: one append per log at a time in this process (see
  // KeyedSerializer). The pending path batches concurrent requests itself.
  const perLog = new KeyedSerializer();
  const run = <T>(logId: string, fn: () => Promise<T>): Promise<T> =>
    deps.ingest.sequencesAcrossRequests ? fn() : perLog.run(logId, fn);
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
        const waitMs = preferWaitMs(req.headers.prefer);
        const result = await run(logId, () =>
          deps.ingest.append({
            logId,
            submitter: principal.id,
            body: req.body,
            ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
            ...(waitMs !== undefined ? { waitMs } : {}),
          }),
        );
        const headers: Record<string, string> = result.replay ? { 'idempotent-replayed': 'true' } : {};
        if (waitMs !== undefined) headers['preference-applied'] = `wait=${waitMs / 1000}`;
        if (result.status === 202 && result.accepted) {
          const { acceptId, count } = result.accepted;
          headers.location = `/v1/logs/${logId}/receipts?ids=${acceptId}`;
          return json(202, { accepted: { id: acceptId, count } }, headers);
        }
        return json(result.status, { receipts: result.receipts }, headers);
      },
    },
    {
      method: 'GET',
      pattern: '/v1/logs/{logId}/receipts',
      auth: 'principal',
      async handle(req) {
        const logId = logIdOf(req);
        const principal = principalOf(req);
        // Whoever may write the log may ask where their own requests landed.
        deps.principals.authorize(principal, logId, 'events:write');
        for (const name of Object.keys(req.query))
          if (name !== 'ids')
            throw new AppError(
              'BAD_REQUEST',
              `unknown query parameter ${JSON.stringify(name.slice(0, 64))}; allowed: ids`,
              {
                path: `/query/${name.slice(0, 64)}`,
              },
            );
        const ids = (req.query.ids ?? '').split(',').filter((x) => x !== '');
        if (
          ids.length === 0 ||
          ids.length > MAX_RECEIPT_IDS ||
          ids.some((id) => !/^[A-Za-z0-9_-]{1,64}$/.test(id))
        )
          throw new AppError(
            'BAD_REQUEST',
            `ids must be 1..${MAX_RECEIPT_IDS} comma-separated accept ids (as a 202 answer gives them)`,
            { path: '/query/ids' },
          );
        return json(200, await deps.ingest.receipts(logId, principal.id, ids));
      },
    },
  ];
}
