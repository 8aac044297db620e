import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpTimestamper } from '../../src/adapters/tsa/http-timestamper.ts';
import { sha256 } from '../../src/core/hash.ts';
import { TimestampError } from '../../src/core/rfc3161/errors.ts';
import { decodePemCertificates } from '../../src/core/rfc3161/pem.ts';
import { TsaTransportError } from '../../src/ports/timestamper.ts';
import { harnessTsas } from '../support/tsa.ts';
import {
  editImprint,
  editNonce,
  editSha1,
  type FakeTsa,
  forward,
  readText,
  refusedUrl,
  rewritingProxy,
  sendReply,
  startFakeTsa,
} from './tsa-fakes.ts';

const tsa = harnessTsas();
const ecdsaRoots = readText(tsa.ecdsa.rootCertPath);
const rsaRoots = readText(tsa.rsa.rootCertPath);
const data = new TextEncoder().encode(
  'anchor.test/tsa\n42\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— sig\n',
);
const digest = sha256(data);
let nonceCounter = 1;
const nonce = () => {
  const n = new Uint8Array(8);
  new DataView(n.buffer).setUint32(4, nonceCounter++);
  n[0] = 0x5a;
  return n;
};

const fakes: FakeTsa[] = [];
async function fake(f: Promise<FakeTsa>): Promise<FakeTsa> {
  const t = await f;
  fakes.push(t);
  return t;
}
afterAll(async () => {
  await Promise.all(fakes.map((f) => f.close()));
});

function client(
  url: string,
  rootsPem = ecdsaRoots,
  extra: Partial<ConstructorParameters<typeof HttpTimestamper>[0]> = {},
) {
  return new HttpTimestamper({ name: 'test-tsa', url, rootsPem, timeoutMs: 2000, ...extra });
}

async function rejection(p: Promise<unknown>): Promise<TsaTransportError | TimestampError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof TsaTransportError || e instanceof TimestampError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'anchorlog-tsa-test-'));
  writeFileSync(join(work, 'data'), data);
});

describe('HttpTimestamper against the OpenSSL TSAs', () => {
  for (const flavour of ['ecdsa', 'rsa'] as const) {
    // What every Timestamper returns and how verify() re-checks a reply:
    // test/contracts/timestamper.contract.ts (run against this adapter and
    // these TSAs by test/contracts/aws.test.ts). Here: OpenSSL's own check.
    it(`${flavour}: returns a token that openssl ts -verify accepts, chained to the TSA's root`, async () => {
      const t = tsa[flavour];
      const got = await client(t.url, readText(t.rootCertPath)).timestamp({ digest, nonce: nonce() });
      expect(got.chain).toHaveLength(2);
      expect(got.chain[1]).toEqual(decodePemCertificates(readText(t.rootCertPath))[0]);
      // The policy OID has a 128-bit arc; the core currently renders it via asn1js
      // (reported to the rfc3161 owner), so only its prefix is asserted here.
      expect(got.policy.startsWith('2.25.')).toBe(true);
      const tsr = join(work, `${flavour}.tsr`);
      writeFileSync(tsr, got.response);
      const out = execFileSync(
        'openssl',
        ['ts', '-verify', '-in', tsr, '-data', join(work, 'data'), '-CAfile', t.rootCertPath],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
      expect(out).toContain('Verification: OK');
    });
  }

  it('sends the configured Authorization header and the RFC 3161 content type', async () => {
    const seen: Array<Record<string, string | undefined>> = [];
    const proxy = await fake(
      startFakeTsa(async (body, res, req) => {
        seen.push({ authorization: req.headers.authorization, type: req.headers['content-type'] });
        sendReply(res, await forward(tsa.ecdsa.url, body));
      }),
    );
    await client(proxy.url, ecdsaRoots, { authorization: 'Bearer s3cret' }).timestamp({
      digest,
      nonce: nonce(),
    });
    expect(seen).toEqual([{ authorization: 'Bearer s3cret', type: 'application/timestamp-query' }]);
  });

  it('a TSA whose root is not pinned → UNTRUSTED_ROOT', async () => {
    const e = await rejection(client(tsa.ecdsa.url, rsaRoots).timestamp({ digest, nonce: nonce() }));
    expect(e).toBeInstanceOf(TimestampError);
    expect(e.code).toBe('UNTRUSTED_ROOT');
  });

  it('refuses to start without a pinned root', () => {
    expect(() => client(tsa.ecdsa.url, 'no pem here')).toThrow(TimestampError);
  });
});

describe('HttpTimestamper: each failure has its own code', () => {
  it('refused connection → TSA_UNREACHABLE (retryable)', async () => {
    const e = await rejection(client(await refusedUrl()).timestamp({ digest, nonce: nonce() }));
    expect(e).toBeInstanceOf(TsaTransportError);
    expect(e.code).toBe('TSA_UNREACHABLE');
    expect((e as TsaTransportError).retryable).toBe(true);
  });

  it('HTTP 500 → TSA_HTTP_STATUS (retryable), 403 → not retryable', async () => {
    const f500 = await fake(startFakeTsa((_b, res) => void res.writeHead(500).end('boom')));
    const e = (await rejection(client(f500.url).timestamp({ digest, nonce: nonce() }))) as TsaTransportError;
    expect([e.code, e.httpStatus, e.retryable]).toEqual(['TSA_HTTP_STATUS', 500, true]);
    const f403 = await fake(startFakeTsa((_b, res) => void res.writeHead(403).end('no')));
    const e2 = (await rejection(client(f403.url).timestamp({ digest, nonce: nonce() }))) as TsaTransportError;
    expect([e2.code, e2.httpStatus, e2.retryable]).toEqual(['TSA_HTTP_STATUS', 403, false]);
  });

  it('a TSA that hangs → TSA_TIMEOUT after the deadline', async () => {
    const hang = await fake(startFakeTsa(() => {}));
    const t0 = Date.now();
    const e = await rejection(
      client(hang.url, ecdsaRoots, { timeoutMs: 300 }).timestamp({ digest, nonce: nonce() }),
    );
    expect(e.code).toBe('TSA_TIMEOUT');
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('a TSA that stalls mid-body → TSA_TIMEOUT', async () => {
    const stall = await fake(
      startFakeTsa((_b, res) => {
        res.writeHead(200, { 'content-type': 'application/timestamp-reply' });
        res.write(Buffer.from([0x30, 0x82]));
      }),
    );
    const e = await rejection(
      client(stall.url, ecdsaRoots, { timeoutMs: 300 }).timestamp({ digest, nonce: nonce() }),
    );
    expect(e.code).toBe('TSA_TIMEOUT');
  });

  it('garbage with the right content type → MALFORMED', async () => {
    const g = await fake(
      startFakeTsa((_b, res) => sendReply(res, new TextEncoder().encode('<html>hello</html>'))),
    );
    const e = await rejection(client(g.url).timestamp({ digest, nonce: nonce() }));
    expect(e).toBeInstanceOf(TimestampError);
    expect(e.code).toBe('MALFORMED');
  });

  it('a wrong content type → TSA_BAD_CONTENT_TYPE', async () => {
    const g = await fake(
      startFakeTsa(async (body, res) => sendReply(res, await forward(tsa.ecdsa.url, body), 'text/html')),
    );
    const e = await rejection(client(g.url).timestamp({ digest, nonce: nonce() }));
    expect(e.code).toBe('TSA_BAD_CONTENT_TYPE');
  });

  it('an oversized reply → TSA_RESPONSE_TOO_LARGE (declared or streamed)', async () => {
    const big = await fake(startFakeTsa((_b, res) => sendReply(res, new Uint8Array(300_000))));
    expect((await rejection(client(big.url).timestamp({ digest, nonce: nonce() }))).code).toBe(
      'TSA_RESPONSE_TOO_LARGE',
    );
    const chunked = await fake(
      startFakeTsa((_b, res) => {
        res.writeHead(200, { 'content-type': 'application/timestamp-reply' });
        for (let i = 0; i < 10; i++) res.write(new Uint8Array(40_000));
        res.end();
      }),
    );
    const e = await rejection(
      client(chunked.url, ecdsaRoots, { maxResponseBytes: 100_000 }).timestamp({ digest, nonce: nonce() }),
    );
    expect(e.code).toBe('TSA_RESPONSE_TOO_LARGE');
  });

  it('a rejection status (OpenSSL refuses a SHA-1 query) → STATUS_NOT_GRANTED', async () => {
    const p = await fake(rewritingProxy(tsa.ecdsa.url, editSha1));
    const e = await rejection(client(p.url).timestamp({ digest, nonce: nonce() }));
    expect(e).toBeInstanceOf(TimestampError);
    expect(e.code).toBe('STATUS_NOT_GRANTED');
  });

  it('a token for another imprint → IMPRINT_MISMATCH', async () => {
    const p = await fake(rewritingProxy(tsa.ecdsa.url, editImprint));
    const e = await rejection(client(p.url).timestamp({ digest, nonce: nonce() }));
    expect(e.code).toBe('IMPRINT_MISMATCH');
  });

  it('a token for another nonce → NONCE_MISMATCH', async () => {
    const p = await fake(rewritingProxy(tsa.rsa.url, editNonce));
    const e = await rejection(client(p.url, rsaRoots).timestamp({ digest, nonce: nonce() }));
    expect(e.code).toBe('NONCE_MISMATCH');
  });
});
