/**
 * Serves the built console (dist/console/, docs/console.md) under /console/
 * for the local stack: GET and HEAD only, files under the directory only
 * (no traversal, no listing), with the security headers the CDK distribution
 * sets too (docs/console.md §Where it runs): a strict Content-Security-Policy
 * with no inline script, no framing, no sniffing, no referrer.
 */
import { readFile, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

/**
 * The console's policy: scripts, styles and workers from the console's own origin; API calls to it.
 * 'wasm-unsafe-eval' lets the verifier compile its WebAssembly SHA-256 (console/src/hash-browser.ts);
 * it allows no JavaScript eval, and the WebAssembly is the bundled module's, never fetched.
 */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; worker-src 'self'; " +
  "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

export interface StaticMount {
  /** URL prefix ending in '/', e.g. '/console/'. */
  readonly prefix: string;
  readonly dir: string;
}

/** Serves the request from `mount` if its path is under the prefix; false when it is not. */
export async function serveStatic(
  mount: StaticMount,
  method: string,
  path: string,
  res: ServerResponse,
): Promise<boolean> {
  if (path === mount.prefix.slice(0, -1)) {
    res.writeHead(308, { location: mount.prefix });
    res.end();
    return true;
  }
  if (!path.startsWith(mount.prefix)) return false;
  const send = (status: number, body: string | Uint8Array, type: string) => {
    res.writeHead(status, {
      ...CONSOLE_HEADERS,
      'content-type': type,
      'content-length': String(body.length),
    });
    res.end(method === 'HEAD' ? undefined : body);
  };
  if (method !== 'GET' && method !== 'HEAD') {
    send(405, 'method not allowed\n', 'text/plain; charset=utf-8');
    return true;
  }
  let rel: string;
  try {
    rel = decodeURIComponent(path.slice(mount.prefix.length)) || 'index.html';
  } catch {
    send(400, 'bad path\n', 'text/plain; charset=utf-8');
    return true;
  }
  const root = normalize(mount.dir + sep);
  const file = normalize(join(root, rel));
  const info = file.startsWith(root) ? await stat(file).catch(() => undefined) : undefined;
  if (!info?.isFile()) {
    send(404, 'not found\n', 'text/plain; charset=utf-8');
    return true;
  }
  send(200, await readFile(file), TYPES[extname(file)] ?? 'application/octet-stream');
  return true;
}
