/**
 * Misbehaving TSAs for the anchor tests: tiny node:http servers, most of which
 * wrap a real OpenSSL TSA from the harness (so the tokens are real) and break
 * one thing — the status, the imprint, the nonce, the transport.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import * as asn1js from 'asn1js';
import { AlgorithmIdentifier, MessageImprint, TimeStampReq } from 'pkijs';

export interface FakeTsa {
  readonly url: string;
  /** POSTs received. */
  requests(): number;
  close(): Promise<void>;
}

type Handler = (body: Buffer, res: ServerResponse, req: IncomingMessage) => void | Promise<void>;

export async function startFakeTsa(handle: Handler): Promise<FakeTsa> {
  let count = 0;
  const open = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      count++;
      open.add(res);
      res.on('close', () => open.delete(res));
      Promise.resolve(handle(Buffer.concat(chunks), res, req)).catch((err: unknown) => {
        res.writeHead(502, { 'content-type': 'text/plain' }).end(String(err));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (!addr || typeof addr !== 'object') throw new Error('fake TSA did not bind');
  return {
    url: `http://127.0.0.1:${addr.port}/`,
    requests: () => count,
    close: () =>
      new Promise((resolve) => {
        for (const r of open) r.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A URL where nothing listens (a port we bound, then released). */
export async function refusedUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const addr = s.address();
  if (!addr || typeof addr !== 'object') throw new Error('no port');
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return `http://127.0.0.1:${addr.port}/`;
}

export async function forward(url: string, query: Uint8Array): Promise<Buffer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/timestamp-query' },
    body: new Uint8Array(query),
  });
  return Buffer.from(await res.arrayBuffer());
}

export function sendReply(res: ServerResponse, body: Uint8Array, type = 'application/timestamp-reply'): void {
  res.writeHead(200, { 'content-type': type }).end(body);
}

/** Re-encodes a TimeStampReq after `edit` changed it. */
export function rewriteQuery(query: Uint8Array, edit: (req: TimeStampReq) => void): Uint8Array {
  const req = TimeStampReq.fromBER(new Uint8Array(query));
  edit(req);
  return new Uint8Array(req.toSchema().toBER(false));
}

/** A proxy to `upstream` that rewrites each query before forwarding it and relays the reply. */
export function rewritingProxy(upstream: string, edit: (req: TimeStampReq) => void): Promise<FakeTsa> {
  return startFakeTsa(async (body, res) => {
    sendReply(res, await forward(upstream, rewriteQuery(body, edit)));
  });
}

export const editNonce = (req: TimeStampReq) => {
  req.nonce = new asn1js.Integer({ value: 424242 });
};

export const editImprint = (req: TimeStampReq) => {
  const h = new Uint8Array(req.messageImprint.hashedMessage.valueBlock.valueHexView);
  h[0] = (h[0] ?? 0) ^ 0xff;
  req.messageImprint = new MessageImprint({
    hashAlgorithm: req.messageImprint.hashAlgorithm,
    hashedMessage: new asn1js.OctetString({ valueHex: h.buffer }),
  });
};

/** SHA-1 imprint: the harness TSAs accept only SHA-256/384/512, so OpenSSL answers `rejection` (badAlg). */
export const editSha1 = (req: TimeStampReq) => {
  req.messageImprint = new MessageImprint({
    hashAlgorithm: new AlgorithmIdentifier({
      algorithmId: '1.3.14.3.2.26',
      algorithmParams: new asn1js.Null(),
    }),
    hashedMessage: new asn1js.OctetString({ valueHex: new Uint8Array(20).fill(7).buffer }),
  });
};

export const readText = (path: string) => readFileSync(path, 'utf8');
