/**
 * A C2SP tlog-witness witness over node:http, for tests and the local stack
 * (which runs two, as it runs two TSAs). It is a transport only: requests go
 * through src/http/witness-http.ts to the witness service
 * (src/app/witness-service.ts), exactly the code the Lambda witness
 * (lambdas/witness.ts) runs, over a WitnessLedgerStore — in memory by
 * default (kept in `statePath` across restarts when given), or any other
 * store (the DynamoDB one on the emulator).
 *
 *   POST <prefix>/add-checkpoint         → 200 cosignature line(s), 409
 *                                          text/x.tlog.size, 400, 403, 404, 422, 503
 *   GET  <prefix>/<sha256(origin) hex>/checkpoint
 *                                        → the last cosigned checkpoint (monitoring)
 *
 * The state is written (and, with `statePath`, on disk) by the store's
 * compareAndSet BEFORE the reply is sent, as the spec requires.
 *
 * `fault` lets tests make the witness misbehave per request: hang (never
 * answer), answer garbage, answer 500, or crash after persisting.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { MemoryWitnessLedgerStore } from '../adapters/memory/witness-ledger-store.ts';
import { WitnessService } from '../app/witness-service.ts';
import { fromBase64, toBase64 } from '../core/bytes.ts';
import type { NoteVerifier } from '../core/note/verifiers.ts';
import { type Cosigner, formatCosignerKey } from '../core/witness/cosignature.ts';
import { MAX_ADD_CHECKPOINT_BYTES } from '../core/witness/protocol.ts';
import { type LogKeyLookup, originHash, type WitnessedHead } from '../core/witness/witness.ts';
import { handleWitnessHttp } from '../http/witness-http.ts';
import { systemClock } from '../ports/clock.ts';
import type { WitnessLedgerHead, WitnessLedgerStore } from '../ports/witness-ledger-store.ts';

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
  /** The witness's state; default a MemoryWitnessLedgerStore (with `statePath`, kept on disk). */
  readonly store?: WitnessLedgerStore;
  /** JSON file the in-memory state is kept in across restarts (ignored with `store`). */
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
  readonly service: WitnessService;
  /** The store it runs on (a MemoryWitnessLedgerStore unless one was given). */
  readonly store: WitnessLedgerStore;
  /** What it last cosigned for `origin` (in-memory store only; undefined otherwise or when never). */
  head(origin: string): WitnessedHead | undefined;
  /** add-checkpoint requests received, by answered status. */
  readonly answered: Map<number, number>;
  close(): Promise<void>;
}

interface StateFile {
  readonly heads: Record<
    string,
    { origin: string; size: number; rootHash: string; checkpoint: string; updatedAt: number }
  >;
}

function fileStore(statePath: string | undefined): MemoryWitnessLedgerStore {
  const initial = new Map<string, WitnessLedgerHead>();
  if (statePath && existsSync(statePath)) {
    const saved = JSON.parse(readFileSync(statePath, 'utf8')) as StateFile;
    for (const [key, h] of Object.entries(saved.heads))
      initial.set(key, { ...h, rootHash: fromBase64(h.rootHash) });
  }
  return new MemoryWitnessLedgerStore({
    initial,
    // Inside compareAndSet, before it resolves: on disk before the cosignature leaves.
    ...(statePath
      ? {
          onWrite: (heads) => {
            const out: StateFile['heads'] = {};
            for (const [key, h] of heads) out[key] = { ...h, rootHash: toBase64(h.rootHash) };
            const tmp = `${statePath}.tmp`;
            writeFileSync(tmp, JSON.stringify({ heads: out }));
            renameSync(tmp, statePath);
          },
        }
      : {}),
  });
}

export async function startLocalWitness(opts: LocalWitnessOptions): Promise<LocalWitness> {
  const store = opts.store ?? fileStore(opts.statePath);
  const nowSeconds = opts.nowSeconds;
  const service = new WitnessService({
    keyName: opts.keyName,
    secretKey: opts.secretKey,
    logs: opts.logs,
    store,
    clock: nowSeconds ? { now: () => nowSeconds() * 1000 } : systemClock,
  });
  const answered = new Map<number, number>();
  const hanging = new Set<ServerResponse>();

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'internal error\n');
      else res.destroy();
    });
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
    const body = await readBody(req, MAX_ADD_CHECKPOINT_BYTES);
    const out = await handleWitnessHttp(service, { method: req.method ?? 'GET', path, body });
    if (path === '/add-checkpoint') answered.set(out.status, (answered.get(out.status) ?? 0) + 1);
    if (out.status === 200 && path === '/add-checkpoint' && fault === 'crash-after-persist') {
      res.destroy();
      return;
    }
    send(res, out.status, out.body, out.contentType);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  if (!addr || typeof addr !== 'object') throw new Error('witness did not bind');
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${addr.port}`,
    cosigner: service.cosigner,
    vkey: formatCosignerKey(service.cosigner),
    service,
    store,
    head: (origin) => {
      if (!(store instanceof MemoryWitnessLedgerStore)) return undefined;
      const h = store.peek(originHash(origin));
      return h ? { size: h.size, rootHash: h.rootHash } : undefined;
    },
    answered,
    close: () =>
      new Promise((resolve) => {
        for (const r of hanging) r.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The body, or undefined once it passed `max` bytes (the rest is drained, not kept). */
function readBody(req: IncomingMessage, max: number): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    req.on('data', (c: Buffer) => {
      total += c.length;
      if (total <= max) chunks.push(c);
    });
    req.on('end', () => resolve(total > max ? undefined : new Uint8Array(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}
