/**
 * The operator pages' API client: the key lives in sessionStorage only (gone
 * when the tab closes; never localStorage, never a cookie), every call sends
 * it as a bearer token, and every error is an ApiError carrying the API's
 * stable `code`, `message` and `requestId` (docs/api.md §Errors) for the page
 * to show as they are.
 */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly requestId: string | null,
    /** The finer stable code some routes add (access reviews: `ALREADY_DECIDED`, …). */
    readonly reason?: string,
  ) {
    super(message);
  }
}

const KEY = 'anchorlog.apiKey';
const LOGS = 'anchorlog.logs';

export const session = {
  key: (): string => sessionStorage.getItem(KEY) ?? '',
  logs: (): string[] => (sessionStorage.getItem(LOGS) ?? '').split(',').filter(Boolean),
  save(key: string, logs: readonly string[]): void {
    sessionStorage.setItem(KEY, key);
    sessionStorage.setItem(LOGS, logs.join(','));
  },
  clear(): void {
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(LOGS);
  },
};

/** Calls the API at the console's own origin (the Content-Security-Policy allows no other). */
export async function api(
  method: 'GET' | 'POST',
  path: string,
  opts: { query?: Record<string, string | undefined>; body?: unknown; text?: boolean; blob?: boolean } = {},
): Promise<unknown> {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(opts.query ?? {})) if (v) url.searchParams.set(k, v);
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${session.key()}`,
        ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
  } catch (e) {
    throw new ApiError('NETWORK_ERROR', e instanceof Error ? e.message : String(e), 0, null);
  }
  if (res.ok && opts.blob) return res.blob();
  const text = await res.text();
  if (!res.ok) {
    let err: { code?: unknown; message?: unknown; requestId?: unknown; reason?: unknown } = {};
    try {
      err = (JSON.parse(text) as { error?: typeof err }).error ?? {};
    } catch {}
    throw new ApiError(
      typeof err.code === 'string' ? err.code : `HTTP_${res.status}`,
      typeof err.message === 'string' ? err.message : text.slice(0, 200),
      res.status,
      typeof err.requestId === 'string' ? err.requestId : res.headers.get('x-request-id'),
      typeof err.reason === 'string' ? err.reason : undefined,
    );
  }
  return opts.text ? text : JSON.parse(text);
}
