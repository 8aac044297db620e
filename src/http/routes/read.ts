/**
 * Read API (DESIGN §4): checkpoint, tiles, proofs (scope `proofs:read`) and
 * the public verifier keys. Parse → ProofService → map; every client mistake
 * is a 400 naming the parameter or a 404.
 */
import { AppError } from '../../app/errors.ts';
import type { PrincipalService } from '../../app/principals.ts';
import type { ProofService } from '../../app/proofs.ts';
import { MerkleError } from '../../core/merkle/errors.ts';
import { parseSafeUint } from '../../core/merkle/numbers.ts';
import type { Route } from '../router.ts';
import { type HttpRequest, json } from '../types.ts';
import { logIdOf, principalOf } from './body.ts';

const IMMUTABLE = 'public, max-age=31536000, immutable';

/** `name` from the query string: a canonical decimal ≤ 2^53 − 1, or undefined when absent and optional. */
function uintParam(req: HttpRequest, name: string, required: true): number;
function uintParam(req: HttpRequest, name: string, required: false): number | undefined;
function uintParam(req: HttpRequest, name: string, required: boolean): number | undefined {
  const raw = req.query[name];
  if (raw === undefined || raw === '') {
    if (required)
      throw new AppError('BAD_REQUEST', `query parameter ${name} is required`, { path: `/query/${name}` });
    return undefined;
  }
  try {
    return parseSafeUint(raw, name, 'BAD_ARGUMENT');
  } catch (err) {
    if (!(err instanceof MerkleError)) throw err;
    throw new AppError(
      'BAD_REQUEST',
      `${name} must be a decimal integer from 0 to 2^53-1 without sign or leading zeros`,
      {
        path: `/query/${name}`,
      },
    );
  }
}

export function readRoutes(deps: {
  proofs: ProofService;
  principals: Pick<PrincipalService, 'authorize'>;
}): Route[] {
  /** Authorizes `proofs:read` on the path's log and returns the log id. */
  const readable = (req: HttpRequest): string => {
    const logId = logIdOf(req);
    deps.principals.authorize(principalOf(req), logId, 'proofs:read');
    return logId;
  };
  return [
    {
      method: 'GET',
      pattern: '/v1/logs/{logId}/checkpoint',
      auth: 'principal',
      async handle(req) {
        const text = await deps.proofs.latestCheckpoint(readable(req));
        return {
          status: 200,
          headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache' },
          body: text,
        };
      },
    },
    {
      method: 'GET',
      pattern: '/v1/logs/{logId}/tile/{path+}',
      auth: 'principal',
      async handle(req) {
        const logId = readable(req);
        // The router percent-decodes parameters; a tile has exactly one spelling,
        // so an encoded path (tile/0%2F000) is refused rather than aliased.
        if (req.path.includes('%'))
          throw new AppError('BAD_REQUEST', 'tile paths are never percent-encoded', { path: '/path' });
        const tile = await deps.proofs.tile(logId, `tile/${req.pathParams.path ?? ''}`);
        // Entry bundles carry record contents behind authentication: shared caches
        // must not keep them. Hash tiles are hashes only.
        const cache = tile.full
          ? tile.kind === 'hash'
            ? IMMUTABLE
            : 'private, max-age=31536000, immutable'
          : tile.kind === 'hash'
            ? 'public, max-age=300'
            : 'private, max-age=300';
        return {
          status: 200,
          headers: { 'content-type': 'application/octet-stream', 'cache-control': cache },
          body: tile.bytes,
        };
      },
    },
    {
      method: 'GET',
      pattern: '/v1/logs/{logId}/proof/inclusion',
      auth: 'principal',
      async handle(req) {
        const logId = readable(req);
        const index = uintParam(req, 'index', true);
        const size = uintParam(req, 'size', false);
        return json(200, await deps.proofs.inclusionProof(logId, index, size));
      },
    },
    {
      method: 'GET',
      pattern: '/v1/logs/{logId}/proof/consistency',
      auth: 'principal',
      async handle(req) {
        const logId = readable(req);
        const from = uintParam(req, 'from', true);
        const to = uintParam(req, 'to', false);
        return json(200, await deps.proofs.consistencyProof(logId, from, to));
      },
    },
    {
      method: 'GET',
      pattern: '/v1/keys',
      auth: 'public',
      async handle() {
        return json(200, await deps.proofs.keys(), { 'cache-control': 'public, max-age=300' });
      },
    },
  ];
}
