/**
 * Read API (docs/openapi.json): checkpoint, hash tiles and proofs (scope
 * `proofs:read`), entry bundles (scope `events:read`: they are the records
 * themselves) and the public verifier keys. Parse → ProofService → map;
 * every client mistake is a 400 naming the parameter or a 404.
 *
 * Caching: everything behind an API key is `private` (the router refuses
 * anything else); only GET /v1/keys is `public`.
 *
 * An entry bundle above ENTRY_BUNDLE_INLINE_MAX cannot pass through the API
 * Lambda's 6 MB response: it is a 307 to a presigned S3 GET of the exact
 * archived version, valid ENTRY_BUNDLE_URL_SECONDS (docs/formats.md
 * §Tiles). The redirect may be reused privately for a minute, well inside
 * the URL's lifetime; the scope check has already happened.
 */
import { AppError } from '../../app/errors.ts';
import type { PrincipalService } from '../../app/principals.ts';
import type { ProofService } from '../../app/proofs.ts';
import { MerkleError } from '../../core/merkle/errors.ts';
import { parseSafeUint } from '../../core/merkle/numbers.ts';
import { parseTilePath } from '../../core/merkle/tile-path.ts';
import type { Scope } from '../../core/principal.ts';
import type { Route } from '../router.ts';
import { type HttpRequest, type HttpResponse, json } from '../types.ts';
import { logIdOf, principalOf } from './body.ts';

/** A full tile or bundle never changes; a partial one is superseded as the log grows. */
const FULL_TILE = 'private, max-age=31536000, immutable';
const PARTIAL_TILE = 'private, max-age=300';
const REDIRECT_CACHE = 'private, max-age=60';
/** The verifier keys change only on a key rotation, which is announced ahead (docs/operations.md). */
const KEYS_CACHE = 'public, max-age=3600';

/**
 * The scope a tile path needs, from the same parser ProofService uses, so
 * no spelling can reach an entry bundle under `proofs:read`. A path that does
 * not parse is refused by ProofService after this check; it reads nothing.
 */
function tileScope(path: string): Scope {
  try {
    return parseTilePath(path).kind === 'entries' ? 'events:read' : 'proofs:read';
  } catch {
    return path.startsWith('tile/entries/') ? 'events:read' : 'proofs:read';
  }
}

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
  /** Authorizes `scope` on the path's log and returns the log id. */
  const readable = (req: HttpRequest, scope: Scope = 'proofs:read'): string => {
    const logId = logIdOf(req);
    deps.principals.authorize(principalOf(req), logId, scope);
    return logId;
  };
  return [
    {
      method: 'GET',
      pattern: '/v1/logs/{logId}/checkpoint',
      auth: 'principal',
      async handle(req) {
        // With the witnesses' cosignatures (docs/witnessing.md §Serving): still a valid signed note.
        const text = await deps.proofs.witnessedCheckpoint(readable(req));
        return {
          status: 200,
          // Revalidated on every use: the checkpoint advances with every seal.
          headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'private, no-cache' },
          body: text,
        };
      },
    },
    {
      method: 'GET',
      pattern: '/v1/logs/{logId}/tile/{path+}',
      auth: 'principal',
      async handle(req): Promise<HttpResponse> {
        const path = `tile/${req.pathParams.path ?? ''}`;
        const logId = readable(req, tileScope(path));
        // The router percent-decodes parameters; a tile has exactly one spelling,
        // so an encoded path (tile/0%2F000) is refused rather than aliased.
        if (req.path.includes('%'))
          throw new AppError('BAD_REQUEST', 'tile paths are never percent-encoded', { path: '/path' });
        const tile = await deps.proofs.tileOrRedirect(logId, path);
        if ('url' in tile)
          return {
            status: 307,
            headers: { location: tile.url, 'cache-control': REDIRECT_CACHE },
            body: '',
          };
        const cache = tile.full ? FULL_TILE : PARTIAL_TILE;
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
      async handle(req) {
        for (const name of Object.keys(req.query))
          if (name !== 'log')
            throw new AppError(
              'BAD_REQUEST',
              `unknown query parameter ${JSON.stringify(name.slice(0, 64))}; allowed: log`,
              {
                path: `/query/${name}`,
              },
            );
        return json(200, await deps.proofs.keys(req.query.log), { 'cache-control': KEYS_CACHE });
      },
    },
  ];
}
