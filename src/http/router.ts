/**
 * Route matching for the `/v1` API. API Gateway does the same matching in the
 * cloud (one route → one Lambda); the local server and each Lambda use this
 * table so that both paths run the same handler for the same request.
 */
import { AppError } from '../app/errors.ts';
import type { Principal } from '../core/principal.ts';
import { type ErrorLogger, errorResponse } from './errors.ts';
import type { HttpRequest, HttpResponse } from './types.ts';

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path template with `{name}` segments and an optional trailing `{name+}` greedy segment. */
  pattern: string;
  /** `public` routes skip authentication (only GET /v1/keys and the health check). */
  auth: 'public' | 'principal';
  handle(req: HttpRequest): Promise<HttpResponse>;
}

export type Authenticate = (req: HttpRequest) => Promise<Principal>;

interface Compiled {
  route: Route;
  re: RegExp;
  names: string[];
}

function compile(route: Route): Compiled {
  const names: string[] = [];
  const src = route.pattern
    .split('/')
    .map((seg) => {
      const greedy = /^\{(\w+)\+\}$/.exec(seg);
      if (greedy?.[1]) {
        names.push(greedy[1]);
        return '(.+)';
      }
      const m = /^\{(\w+)\}$/.exec(seg);
      if (m?.[1]) {
        names.push(m[1]);
        return '([^/]+)';
      }
      return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { route, re: new RegExp(`^${src}$`), names };
}

export function createRouter(
  routes: Route[],
  opts: { authenticate: Authenticate; logger?: ErrorLogger },
): (req: HttpRequest) => Promise<HttpResponse> {
  const compiled = routes.map(compile);
  return async (req) => {
    try {
      let pathMatched = false;
      for (const c of compiled) {
        const m = c.re.exec(req.path);
        if (!m) continue;
        pathMatched = true;
        if (c.route.method !== req.method) continue;
        const pathParams: Record<string, string> = {};
        c.names.forEach((n, i) => {
          pathParams[n] = decodePathParam(m[i + 1] ?? '');
        });
        const withParams: HttpRequest = { ...req, pathParams };
        if (c.route.auth === 'principal' && withParams.refused) {
          // The authorizer refused the key with a code of its own (lambda-adapter.ts): no route runs.
          throw new AppError(withParams.refused.code, withParams.refused.message);
        }
        if (c.route.auth === 'principal' && !withParams.principal) {
          withParams.principal = await opts.authenticate(withParams);
        }
        const res = await c.route.handle(withParams);
        return c.route.auth === 'principal' ? privateResponse(res) : res;
      }
      if (pathMatched)
        throw new AppError('BAD_REQUEST', `method ${req.method} is not allowed on ${req.path}`);
      throw new AppError('NOT_FOUND', `no route for ${req.method} ${req.path}`);
    } catch (err) {
      return errorResponse(err, req.requestId, opts.logger);
    }
  };
}

/**
 * Responses to authenticated requests must never be stored by a shared cache
 * (RFC 9111 §5.2.2.7). `Authorization` alone would keep them out, but API keys
 * also travel in `x-api-key`, which no cache knows is a credential, and
 * CDNs apply a default TTL to responses without Cache-Control. A route may
 * choose `private, …` freshness; one that says nothing gets `no-store`.
 */
function privateResponse(res: HttpResponse): HttpResponse {
  const cc = res.headers['cache-control'];
  if (cc === undefined) return { ...res, headers: { ...res.headers, 'cache-control': 'no-store' } };
  const directives = cc.split(',').map((d) => d.trim().toLowerCase());
  if (directives.includes('public') || !(directives.includes('private') || directives.includes('no-store')))
    throw new AppError('INTERNAL', `authenticated route answered with shared-cacheable ${cc}`);
  return res;
}

function decodePathParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new AppError('BAD_REQUEST', 'path contains an invalid percent-encoding');
  }
}
