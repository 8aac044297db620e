// The router keeps every response to an authenticated request out of shared
// caches: `no-store` when the route says nothing, a 500 (a bug, logged) when
// an authenticated route claims `public`. Errors are never cacheable.
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/app/errors.ts';
import type { Principal } from '../../src/core/principal.ts';
import { createRouter, type Route } from '../../src/http/router.ts';
import { type HttpRequest, json } from '../../src/http/types.ts';

const who = { id: 'p' } as Principal;
const route = (pattern: string, auth: Route['auth'], headers: Record<string, string>): Route => ({
  method: 'GET',
  pattern,
  auth,
  handle: async () => json(200, { ok: true }, headers),
});
const logged: string[] = [];
const dispatch = createRouter(
  [
    route('/silent', 'principal', {}),
    route('/private', 'principal', { 'cache-control': 'private, max-age=60' }),
    route('/no-store', 'principal', { 'cache-control': 'no-store' }),
    route('/public', 'principal', { 'cache-control': 'public, max-age=60' }),
    route('/bare-max-age', 'principal', { 'cache-control': 'max-age=60' }),
    route('/open', 'public', { 'cache-control': 'public, max-age=60' }),
    {
      method: 'GET',
      pattern: '/fails',
      auth: 'principal',
      handle: async () => {
        throw new AppError('FORBIDDEN', 'no');
      },
    },
  ],
  {
    authenticate: async (req) => {
      if (!req.headers['x-api-key']) throw new AppError('UNAUTHENTICATED', 'no key');
      return who;
    },
    logger: { error: (m) => logged.push(m) },
  },
);
const get = (path: string, key = true) =>
  dispatch({
    method: 'GET',
    path,
    headers: key ? { 'x-api-key': 'k' } : {},
    query: {},
    pathParams: {},
    body: new Uint8Array(0),
    requestId: 'r',
  } satisfies HttpRequest);

describe('router: caching of authenticated responses', () => {
  it('adds no-store when an authenticated route says nothing; keeps private and no-store', async () => {
    expect((await get('/silent')).headers['cache-control']).toBe('no-store');
    expect((await get('/private')).headers['cache-control']).toBe('private, max-age=60');
    expect((await get('/no-store')).headers['cache-control']).toBe('no-store');
  });

  it('an authenticated route that would be shared-cacheable is a logged 500, not a cached response', async () => {
    for (const path of ['/public', '/bare-max-age']) {
      const res = await get(path);
      expect([path, res.status, res.headers['cache-control']]).toEqual([path, 500, 'no-store']);
    }
    expect(logged.length).toBe(2);
  });

  it('public routes keep their own caching; errors are no-store', async () => {
    expect((await get('/open', false)).headers['cache-control']).toBe('public, max-age=60');
    for (const [path, key, status] of [
      ['/fails', true, 403],
      ['/silent', false, 401],
      ['/nowhere', true, 404],
    ] as const) {
      const res = await get(path, key);
      expect([path, res.status, res.headers['cache-control']]).toEqual([path, status, 'no-store']);
    }
  });
});
