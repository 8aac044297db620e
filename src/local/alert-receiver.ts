/**
 * The local stack's alert receiver: a small HTTP server on 127.0.0.1 that
 * stands in for a team's webhook endpoint. It does what a receiver of
 * anchorlog alerts must do (docs/detection.md "Delivery"): verify the
 * Standard Webhooks signature over the exact body bytes with the shared
 * `whsec_` secret and the timestamp tolerance, refuse anything else (401),
 * and treat `webhook-id` (the alert id) as an idempotency key — a repeat
 * after a crash is acknowledged and said to be one. Every delivered alert is
 * printed, and kept for tests.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { toBase64 } from '../core/bytes.ts';
import {
  parseWebhookSecrets,
  verifyWebhook,
  WebhookSignatureError,
} from '../core/deliver/webhook-signature.ts';
import type { AlertDocument } from '../core/detect/alert.ts';

export interface ReceivedAlert {
  readonly id: string;
  readonly alert: AlertDocument;
  readonly checkpoint: { readonly size: number; readonly note: string } | null;
  /** When the receiver accepted it (epoch ms). */
  readonly atMs: number;
  /** The same webhook-id was accepted before. */
  readonly repeat: boolean;
}

export interface AlertReceiver {
  /** POST target, e.g. http://127.0.0.1:41234/alerts */
  readonly url: string;
  /** The `whsec_` secret it verifies with (stored in the emulator's Secrets Manager by the stack). */
  readonly secret: string;
  readonly received: readonly ReceivedAlert[];
  /** Requests refused (bad signature, stale timestamp, not JSON). */
  readonly refused: number;
  /** Resolves with the first alert accepted after the call that satisfies `match`. */
  next(match?: (a: ReceivedAlert) => boolean, timeoutMs?: number): Promise<ReceivedAlert>;
  close(): Promise<void>;
}

const MAX_BODY = 256 * 1024;

export async function startAlertReceiver(opts: {
  host?: string;
  port?: number;
  /** Default: a fresh random 32-byte secret. */
  secret?: string;
  print?: (line: string) => void;
}): Promise<AlertReceiver> {
  const secret = opts.secret ?? `whsec_${toBase64(randomBytes(32))}`;
  const keys = parseWebhookSecrets(secret);
  const print = opts.print ?? (() => {});
  const received: ReceivedAlert[] = [];
  const seen = new Set<string>();
  const waiters: Array<{ match: (a: ReceivedAlert) => boolean; resolve: (a: ReceivedAlert) => void }> = [];
  let refused = 0;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      const refuse = (status: number, why: string) => {
        refused++;
        print(`alert receiver refused a request: ${why}`);
        res.writeHead(status, { 'content-type': 'text/plain' }).end(`${why}\n`);
      };
      if (req.method !== 'POST') return refuse(405, 'POST only');
      if (size > MAX_BODY) return refuse(413, 'body too large');
      const body = Buffer.concat(chunks);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      let id: string;
      try {
        id = verifyWebhook(keys, headers, new Uint8Array(body), Math.floor(Date.now() / 1000)).id;
      } catch (err) {
        return refuse(
          401,
          err instanceof WebhookSignatureError ? `${err.code}: ${err.message}` : 'unverifiable',
        );
      }
      let payload: {
        type?: string;
        data?: { alert?: AlertDocument; checkpoint?: ReceivedAlert['checkpoint'] };
      };
      try {
        payload = JSON.parse(body.toString('utf8'));
      } catch {
        return refuse(400, 'body is not JSON');
      }
      const alert = payload.data?.alert;
      if (payload.type !== 'alert.fire' || !alert) return refuse(400, 'not an alert.fire payload');
      const repeat = seen.has(id);
      seen.add(id);
      const got: ReceivedAlert = {
        id,
        alert,
        checkpoint: payload.data?.checkpoint ?? null,
        atMs: Date.now(),
        repeat,
      };
      received.push(got);
      print(
        `alert ${repeat ? 'delivered again (same id, ignored)' : 'delivered'}: [${alert.rule.severity.toUpperCase()}] ${alert.rule.title} — ${alert.summary} (log ${alert.logId}, rule ${alert.rule.id} v${alert.rule.version}, ${id})`,
      );
      for (let i = waiters.length - 1; i >= 0; i--) {
        const w = waiters[i];
        if (w?.match(got)) {
          waiters.splice(i, 1);
          w.resolve(got);
        }
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  if (!addr || typeof addr !== 'object') throw new Error('alert receiver did not bind');
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${addr.port}/alerts`,
    secret,
    received,
    get refused() {
      return refused;
    },
    next(match = () => true, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const w = { match, resolve };
        waiters.push(w);
        setTimeout(() => {
          const i = waiters.indexOf(w);
          if (i >= 0) {
            waiters.splice(i, 1);
            reject(new Error(`no matching alert within ${timeoutMs} ms`));
          }
        }, timeoutMs).unref();
      });
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
