/**
 * A C2SP tlog-witness witness over node:http, for tests and the local stack
 * (which runs two, as it runs two TSAs). Implements
 * https://c2sp.org/tlog-witness (main at 95978ca):
 *
 *   POST <prefix>/add-checkpoint         → 200 cosignature line(s), 409
 *                                          text/x.tlog.size, 400, 403, 404, 422
 *   GET  <prefix>/<sha256(origin) hex>/checkpoint
 *                                        → the last cosigned checkpoint (monitoring)
 *
 * The decision and the cosignature are the pure core's (WitnessLedger); this
 * file is transport and persistence. State (per origin: size and root) is
 * written to `statePath` synchronously after the ledger accepts and BEFORE
 * the reply is sent, as the spec requires; the check and the update happen
 * in one synchronous step, so concurrent requests cannot roll it back.
 *
 * `fault` lets tests make the witness misbehave per request: hang (never
 * answer), answer garbage, or answer 500.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { fromBase64, toBase64, toHex } from '../core/bytes.ts';
import { sha256 } from '../core/hash.ts';
import type { NoteVerifier } from '../core/note/verifiers.ts';
import { type Cosigner, formatCosignerKey } from '../core/witness/cosignature.ts';
import { WitnessError } from '../core/witness/errors.ts';
import {
  formatConflictBody,
  MAX_ADD_CHECKPOINT_BYTES,
  parseAddCheckpointRequest,
  TLOG_SIZE_CONTENT_TYPE,
} from '../core/witness/protocol.ts';
import { type LogKeyLookup, WitnessLedger } from '../core/witness/witness.ts';

/**
 * hang: never answer; garbage: 200 with HTML; error-500: HTTP 500; crash-after-persist: accept,
 * persist and cosign, then drop the connection without a reply (a crash between the witness's
 * persist and its response).
 */
export type WitnessFault = 'hang' | 'garbage' | 'error-500' | 'crash-after-persist' | undefined;

export interface LocalWitnessOptions {
  /** The witness key name (a schema-less URL by convention), e.g. `witness-a.anchorlog.local`. */
  readonly keyName: string;
  /** 32-byte Ed25519 seed. */
  readonly secretKey: Uint8Array;
  /** The log keys trusted per origin. */
  readonly logs: LogKeyLookup | ReadonlyMap<string, readonly NoteVerifier[]>;
  /** JSON file the per-origin state is kept in across restarts (optional: memory only). */
  readonly statePath?: string;
  readonly host?: string;
  readonly port?: number;
  /** POSIX seconds for cosignature timestamps; default the system clock. */
  readonly nowSeconds?: () => number;
  /** Per request: misbehave (tests). */
  readonly fault?: (path: string) => WitnessFault;
}

export interface LocalWitness {
  /** The submission (and monitoring) prefix. */
  readonly url: string;
  readonly cosigner: Cosigner;
  /** `<name>+<id>+<key>`: what a log's config and TRUST.json name. */
  readonly vkey: string;
  readonly ledger: WitnessLedger;
  /** add-checkpoint requests received, by answered status. */
  readonly answered: Map<number, number>;
  close(): Promise<void>;
}

interface StateFile {
  readonly heads: Record<string, { size: number; rootHash: string }>;
}

export async function startLocalWitness(opts: LocalWitnessOptions): Promise<LocalWitness> {
  const ledger = new WitnessLedger({ name: opts.keyName, secretKey: opts.secretKey, logs: opts.logs });
  if (opts.statePath && existsSync(opts.statePath)) {
    const saved = JSON.parse(readFileSync(opts.statePath, 'utf8')) as StateFile;
    for (const [origin, h] of Object.entries(saved.heads))
      ledger.setHead(origin, { size: h.size, rootHash: fromBase64(h.rootHash) });
  }
  const persist = () => {
    if (!opts.statePath) return;
    const heads: StateFile['heads'] = {};
    for (const [origin, h] of ledger.heads())
      heads[origin] = { size: h.size, rootHash: toBase64(h.rootHash) };
    const tmp = `${opts.statePath}.tmp`;
    writeFileSync(tmp, JSON.stringify({ heads }));
    renameSync(tmp, opts.statePath);
  };
  const now = opts.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
  const answered = new Map<number, number>();
  const hanging = new Set<ServerResponse>();

  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });

  const send = (res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8') => {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    const fault = opts.fault?.(path);
    if (fault === 'hang') {
      hanging.add(res);
      req.resume();
      return;
    }
    if (fault === 'garbage') {
      req.resume();
      send(res, 200, '<html>definitely not a cosignature</html>\n', 'text/html');
      return;
    }
    if (fault === 'error-500') {
      req.resume();
      send(res, 500, 'internal error\n');
      return;
    }
    if (req.method === 'GET' && /^\/[0-9a-f]{64}\/checkpoint$/.test(path)) {
      const hash = path.slice(1, 65);
      for (const origin of ledger.heads().keys()) {
        if (toHex(sha256(new TextEncoder().encode(origin))) !== hash) continue;
        const note = ledger.latest(origin);
        if (note) return send(res, 200, note);
      }
      return send(res, 404, 'never cosigned a checkpoint of this log\n');
    }
    if (path !== '/add-checkpoint') return send(res, 404, 'not found\n');
    if (req.method !== 'POST') return send(res, 405, 'POST only\n');
    let body: Buffer;
    try {
      body = await readBody(req, MAX_ADD_CHECKPOINT_BYTES);
    } catch {
      return send(res, 400, 'request body too large\n');
    }
    let status: number;
    try {
      const request = parseAddCheckpointRequest(new Uint8Array(body));
      const answer = ledger.addCheckpoint(request, now());
      status = answer.status;
      if (answer.status === 200) {
        persist();
        if (fault === 'crash-after-persist') res.destroy();
        else send(res, 200, answer.body);
      } else if (answer.status === 409)
        send(res, 409, formatConflictBody(answer.size), TLOG_SIZE_CONTENT_TYPE);
      else send(res, answer.status, `${answer.reason}\n`);
    } catch (err) {
      if (!(err instanceof WitnessError)) throw err;
      status = 400;
      send(res, 400, `${err.code}: ${err.message}\n`);
    }
    answered.set(status, (answered.get(status) ?? 0) + 1);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  if (!addr || typeof addr !== 'object') throw new Error('witness did not bind');
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${addr.port}`,
    cosigner: ledger.cosigner,
    vkey: formatCosignerKey(ledger.cosigner),
    ledger,
    answered,
    close: () =>
      new Promise((resolve) => {
        for (const r of hanging) r.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    req.on('data', (c: Buffer) => {
      total += c.length;
      if (total > max) {
        reject(new Error('too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
