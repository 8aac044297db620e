/**
 * A tiny RFC 3161 HTTP TSA (RFC 3161 §3.4: POST application/timestamp-query →
 * application/timestamp-reply) for tests and the local stack. Each request is
 * answered by `openssl ts -reply`, so the tokens are real OpenSSL output.
 * Requests are handled one at a time per TSA because openssl increments the
 * serial file in place.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TsaPki } from './pki.ts';

export interface LocalTsa {
  readonly url: string;
  readonly pki: TsaPki;
  /** Number of time-stamp requests answered (including failures). */
  requests(): number;
  close(): Promise<void>;
}

const MAX_QUERY_BYTES = 64 * 1024;

function reply(pki: TsaPki, query: Buffer): Promise<Buffer> {
  const work = mkdtempSync(join(tmpdir(), 'anchorlog-tsa-'));
  const q = join(work, 'q.tsq');
  const r = join(work, 'r.tsr');
  writeFileSync(q, query);
  return new Promise((resolve, reject) => {
    execFile(
      'openssl',
      ['ts', '-reply', '-config', pki.configPath, '-queryfile', q, '-out', r],
      { timeout: 10_000 },
      (err) => {
        try {
          if (err) reject(err);
          else resolve(readFileSync(r));
        } finally {
          rmSync(work, { recursive: true, force: true });
        }
      },
    );
  });
}

export async function startLocalTsa(pki: TsaPki, opts: { port?: number } = {}): Promise<LocalTsa> {
  let chain: Promise<unknown> = Promise.resolve();
  let count = 0;
  const server: Server = createServer((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_QUERY_BYTES) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      count++;
      const job = chain.then(() => reply(pki, Buffer.concat(chunks)));
      chain = job.catch(() => undefined);
      job.then(
        (body) => res.writeHead(200, { 'content-type': 'application/timestamp-reply' }).end(body),
        (err: unknown) =>
          res
            .writeHead(400, { 'content-type': 'text/plain' })
            .end(`openssl ts -reply failed: ${String(err)}`),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const addr = server.address();
  if (!addr || typeof addr !== 'object') throw new Error('TSA did not bind');
  return {
    url: `http://127.0.0.1:${addr.port}/`,
    pki,
    requests: () => count,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
