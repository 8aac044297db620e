/**
 * Serves the API router over node:http on 127.0.0.1 for the local stack and
 * end-to-end tests: the same handlers as the Lambdas, behind the same
 * authentication step. Bodies over the configured limit are cut off early
 * with a 413 instead of being buffered.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { AppError } from '../app/errors.ts';
import { errorResponse } from '../http/errors.ts';
import type { HttpRequest, HttpResponse } from '../http/types.ts';
import { type StaticMount, serveStatic } from './static-files.ts';

export interface LocalHttpServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startHttpServer(
  dispatch: (req: HttpRequest) => Promise<HttpResponse>,
  opts: { host?: string; port?: number; maxBodyBytes: number; static?: StaticMount },
): Promise<LocalHttpServer> {
  const server: Server = createServer((req, res) => {
    void route(req, res, dispatch, opts);
  });
  // Keep idle connections longer than any client does (undici: 4 s), so the
  // client always closes first; a server-side close racing a client's reuse
  // of the socket is what turns into ECONNRESET under load.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8787, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  if (!addr || typeof addr !== 'object') throw new Error('server did not bind');
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${addr.port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function route(
  req: IncomingMessage,
  res: ServerResponse,
  dispatch: (req: HttpRequest) => Promise<HttpResponse>,
  opts: { maxBodyBytes: number; static?: StaticMount },
): Promise<void> {
  // The console's files (docs/console.md); everything else is the API.
  const path = new URL(req.url ?? '/', 'http://local').pathname;
  if (opts.static && (await serveStatic(opts.static, (req.method ?? 'GET').toUpperCase(), path, res))) return;
  await handle(req, res, dispatch, opts.maxBodyBytes);
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  dispatch: (req: HttpRequest) => Promise<HttpResponse>,
  maxBodyBytes: number,
): Promise<void> {
  const requestId = randomUUID();
  let response: HttpResponse;
  try {
    const body = await readBody(req, maxBodyBytes);
    const url = new URL(req.url ?? '/', 'http://local');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
    }
    const query: Record<string, string> = {};
    url.searchParams.forEach((v, k) => {
      query[k] = v;
    });
    response = await dispatch({
      method: (req.method ?? 'GET').toUpperCase(),
      path: url.pathname,
      headers,
      query,
      pathParams: {},
      body,
      requestId,
    });
  } catch (err) {
    response = errorResponse(err, requestId);
    // The rest of an oversized body is not read; close so the client sees the 413.
    if (err instanceof AppError && err.code === 'PAYLOAD_TOO_LARGE') res.setHeader('connection', 'close');
  }
  res.writeHead(response.status, { 'x-request-id': requestId, ...response.headers });
  res.end(typeof response.body === 'string' ? response.body : Buffer.from(response.body));
}

function readBody(req: IncomingMessage, max: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > max) {
      req.resume();
      reject(new AppError('PAYLOAD_TOO_LARGE', `request body is ${declared} bytes; the limit is ${max}`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > max) {
        failed = true;
        reject(new AppError('PAYLOAD_TOO_LARGE', `request body exceeds the limit of ${max} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!failed) resolve(new Uint8Array(Buffer.concat(chunks)));
    });
    req.on('error', (err) => {
      if (!failed) reject(new AppError('BAD_REQUEST', `could not read request body: ${err.message}`));
    });
  });
}
