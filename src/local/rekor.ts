/**
 * A Rekor v2 stand-in over node:http, for tests and the local stack (docs/anchoring.md §Rekor):
 *
 *   POST /api/v2/log/entries   CreateEntryRequest (hashedRekordRequestV002, JSON)
 *                              → 201 TransparencyLogEntry (JSON, protojson as rekor-tiles)
 *                              → 400 {"code":3,"message":…} for a request rekor-tiles refuses
 *   GET  /api/v2/checkpoint    → the latest signed checkpoint (text)
 *
 * The log itself is the core's stand-in (src/core/rekor/stand-in.ts): an in-memory RFC 6962 tree
 * and a C2SP checkpoint signed with an Ed25519 key named after the origin, as a Rekor v2 log's.
 * Production Rekor is not reachable from here; this is what the anchor job's Rekor client is
 * exercised against.
 *
 * `fault` lets tests make the log misbehave per request, each the way a broken or hostile log
 * could: hang, garbage, 500, 400, a proof that does not verify, an entry for another digest, a
 * checkpoint signed by a key that is not the log's.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { LocalNoteSigner } from '../adapters/memory/local-signer.ts';
import type { NoteVerifier } from '../core/note/verifiers.ts';
import { verifierFromSpki } from '../core/note/verifiers.ts';
import { vkeyFromSpki } from '../core/note/vkey.ts';
import { encodeRekorEntry, MAX_REKOR_ENTRY_BYTES, parseRekorEntry } from '../core/rekor/entry.ts';
import { parseCreateEntryRequest, RekorRequestError, RekorStandInLog } from '../core/rekor/stand-in.ts';

export type RekorFault =
  | 'hang'
  | 'garbage'
  | 'error-500'
  | 'error-400'
  /** A 201 whose inclusion proof has one hash flipped. */
  | 'bad-proof'
  /** A 201 for an entry whose body records another digest (appended to the tree, proof valid). */
  | 'other-digest'
  /** A 201 whose checkpoint (and tree) come from another log with another key. */
  | 'other-log-key'
  | undefined;

export interface LocalRekorOptions {
  /** The log's origin and key name, e.g. `rekor.anchorlog.local`. */
  readonly origin: string;
  /** 32-byte Ed25519 seed of the checkpoint key; default a fresh key. */
  readonly seed?: Uint8Array;
  readonly host?: string;
  readonly port?: number;
  /** Per request: misbehave (tests). */
  readonly fault?: () => RekorFault;
}

export interface LocalRekor {
  /** The base URL (what ANCHORLOG_REKOR_URL names). */
  readonly url: string;
  readonly origin: string;
  /** `<origin>+<id>+<key>`: the log key a deployment and TRUST.json pin. */
  readonly vkey: string;
  readonly logKey: NoteVerifier;
  readonly log: RekorStandInLog;
  /** CreateEntry requests received, by answered status. */
  readonly answered: Map<number, number>;
  close(): Promise<void>;
}

export async function startLocalRekor(opts: LocalRekorOptions): Promise<LocalRekor> {
  const signer = opts.seed
    ? LocalNoteSigner.fromEd25519Seed(opts.origin, opts.seed)
    : LocalNoteSigner.generate(opts.origin, 'ed25519');
  const log = new RekorStandInLog(signer);
  // The 'other-log-key' fault's log: same origin, another key.
  const impostor = new RekorStandInLog(LocalNoteSigner.generate(opts.origin, 'ed25519'));
  const answered = new Map<number, number>();
  const hanging = new Set<ServerResponse>();

  const send = (
    res: ServerResponse,
    status: number,
    body: string | Uint8Array,
    type = 'application/json',
  ) => {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const count = (status: number) => answered.set(status, (answered.get(status) ?? 0) + 1);
  let latest = '';

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    if (req.method === 'GET' && path === '/api/v2/checkpoint') {
      return latest ? send(res, 200, latest, 'text/plain; charset=utf-8') : send(res, 404, '{"code":5}');
    }
    if (path !== '/api/v2/log/entries') return send(res, 404, '{"code":5,"message":"Not Found"}');
    if (req.method !== 'POST') return send(res, 405, '{"code":12,"message":"Method Not Allowed"}');
    const fault = opts.fault?.();
    if (fault === 'hang') {
      hanging.add(res);
      req.resume();
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req, MAX_REKOR_ENTRY_BYTES);
    } catch {
      count(400);
      return send(res, 400, '{"code":3,"message":"request too large"}');
    }
    if (fault === 'garbage') {
      count(201);
      return send(res, 201, '<html>definitely not an entry</html>', 'application/json');
    }
    if (fault === 'error-500' || fault === 'error-400') {
      const status = fault === 'error-500' ? 500 : 400;
      count(status);
      return send(res, status, `{"code":${status === 500 ? 2 : 3},"message":"injected"}`);
    }
    let entry: Uint8Array;
    try {
      const request = parseCreateEntryRequest(new Uint8Array(body));
      if (fault === 'other-digest') {
        entry = await log.add({ ...request, digest: request.digest.map((b) => b ^ 0x55) });
      } else if (fault === 'other-log-key') {
        entry = await impostor.add(request);
      } else {
        entry = await log.add(request);
        if (fault === 'bad-proof') {
          const e = parseRekorEntry(entry);
          const hashes = e.inclusionProof.hashes.map((h, i) => (i === 0 ? h.map((b) => b ^ 1) : h));
          // A one-leaf tree has no proof hashes: break the root instead.
          const rootHash =
            hashes.length === 0 ? e.inclusionProof.rootHash.map((b) => b ^ 1) : e.inclusionProof.rootHash;
          entry = encodeRekorEntry({ ...e, inclusionProof: { ...e.inclusionProof, hashes, rootHash } });
        }
      }
    } catch (err) {
      if (!(err instanceof RekorRequestError)) throw err;
      count(400);
      // rekor-tiles answers every invalid request with this one message (InvalidArgument).
      return send(res, 400, '{"code":3,"message":"invalid hashedrekord request","details":[]}');
    }
    latest = parseRekorEntry(entry).inclusionProof.checkpoint;
    count(201);
    send(res, 201, entry);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      count(500);
      if (!res.headersSent) send(res, 500, JSON.stringify({ code: 13, message: String(err) }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  if (!addr || typeof addr !== 'object') throw new Error('rekor stand-in did not bind');
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${addr.port}`,
    origin: opts.origin,
    vkey: vkeyFromSpki(opts.origin, signer.publicKeySpki),
    logKey: verifierFromSpki(opts.origin, signer.publicKeySpki),
    log,
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
