/**
 * `anchorlog trust --rekor-log-key VKEY --rekor-anchor-key PEM` against the real local stack
 * (HTTP server, sealer, TSAs, the Rekor v2 stand-in and the emulator-KMS anchor key): the file
 * pins the Rekor log key and the anchor key (canonical PEM), prints the anchor key's
 * fingerprint, and an exported bundle's Rekor entry then verifies against it. Both flags or
 * neither; a PEM that is no P-256 key, or is the log's own checkpoint key, is a usage error.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmsNoteSigner } from '../../src/adapters/aws/kms-signer.ts';
import { runMain } from '../../src/cli/main.ts';
import type { ReadApiDeps } from '../../src/cli/read-api.ts';
import { runTrust, type TrustDocument } from '../../src/cli/trust.ts';
import { AuditClient } from '../../src/client/audit-client.ts';
import { spkiToPem } from '../../src/core/note/pem.ts';
import { demoEvents } from '../../src/local/demo-events.ts';
import type { LocalStack } from '../../src/local/stack.ts';
import { startTestStack } from '../e2e/helpers.ts';
import { captureIo } from './support.ts';

let stack: LocalStack;
let anchorSpki: Uint8Array;
const dir = mkdtempSync(join(tmpdir(), 'anchorlog-trust-rekor-'));
const anchorPem = join(dir, 'rekor-anchor.pem');

const deps = (): ReadApiDeps => ({
  env: { ANCHORLOG_API_URL: stack.info.apiUrl, ANCHORLOG_API_KEY: stack.info.apiKey },
  fetch: globalThis.fetch,
});

async function trust(args: string[]) {
  const io = captureIo();
  const code = await runTrust(['--log', stack.info.logId, ...args], io, deps());
  return { code, out: io.out(), err: io.err() };
}

beforeAll(async () => {
  stack = await startTestStack();
  const client = new AuditClient({
    apiUrl: stack.info.apiUrl,
    apiKey: stack.info.apiKey,
    logId: stack.info.logId,
  });
  await Promise.all(demoEvents({ count: 12, startMs: Date.now() - 60_000 }).map((e) => client.append(e)));
  await client.close();
  await stack.sealNow();
  await stack.anchorNow();
  // What the operator publishes: the anchor key's public key from KMS, as PEM.
  const anchor = await KmsNoteSigner.create({
    client: stack.services.clients.kms,
    kmsKeyId: stack.info.rekorAnchorKeyId,
    keyName: 'anchor',
  });
  anchorSpki = anchor.publicKeySpki;
  // Written with CRLF and a trailing blank line: the file pins the canonical form.
  writeFileSync(anchorPem, `${spkiToPem(anchorSpki).replace(/\n/g, '\r\n')}\r\n`);
});
afterAll(async () => {
  await stack?.stop();
});

describe('anchorlog trust: Rekor v2 pins', () => {
  it('writes rekor {logKeys, anchorKeys}; a bundle’s Rekor entry verifies against the file', async () => {
    const file = join(dir, 'TRUST.json');
    const r = await trust([
      '-o',
      file,
      '--rekor-log-key',
      stack.info.rekorVkey,
      '--rekor-anchor-key',
      anchorPem,
      // Repeated: written once.
      '--rekor-anchor-key',
      anchorPem,
    ]);
    expect(r.code, r.err).toBe(0);
    const t = JSON.parse(readFileSync(file, 'utf8')) as TrustDocument;
    expect(t.rekor).toEqual({ logKeys: [stack.info.rekorVkey], anchorKeys: [spkiToPem(anchorSpki)] });
    const fp = createHash('sha256').update(anchorSpki).digest('hex');
    expect(r.out).toContain(`SHA-256 of the DER public key (SPKI): ${fp}`);
    expect(r.out).toContain(`${stack.info.rekorVkey.split('+').slice(0, 2).join('+')}`);

    const api = ['--api', stack.info.apiUrl, '--key', stack.info.apiKey];
    const bundle = join(dir, 'b.tar');
    const exp = captureIo();
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    expect(
      await runMain(
        ['export', '--log', stack.info.logId, '--from', from, '--to', to, '-o', bundle, ...api],
        exp,
      ),
      exp.err(),
    ).toBe(0);
    const v = captureIo();
    expect(
      await runMain(['verify', bundle, '--trust', file, '--allow-incomplete', '--json'], v),
      v.out() + v.err(),
    ).toBe(0);
    const rekor = (
      JSON.parse(v.out()) as { attestations: { kind: string; status: string }[] }
    ).attestations.filter((a) => a.kind === 'rekor');
    expect(rekor.map((a) => a.status)).toEqual(['verified']);
  });

  it('--json reports the Rekor keys and the anchor key fingerprint', async () => {
    const r = await trust([
      '--json',
      '--rekor-log-key',
      stack.info.rekorVkey,
      '--rekor-anchor-key',
      anchorPem,
    ]);
    expect(r.code, r.err).toBe(0);
    const doc = JSON.parse(r.out) as {
      trust: TrustDocument;
      rekor: { logKeys: { vkey: string; name: string }[]; anchorKeys: { spkiSha256: string }[] };
    };
    expect(doc.trust.rekor?.anchorKeys).toEqual([spkiToPem(anchorSpki)]);
    expect(doc.rekor.logKeys.map((k) => k.name)).toEqual(['rekor.anchorlog.local']);
    expect(doc.rekor.anchorKeys).toEqual([
      { spkiSha256: createHash('sha256').update(anchorSpki).digest('hex') },
    ]);
  });

  it('without the flags: no rekor field', async () => {
    const r = await trust([]);
    expect(r.code, r.err).toBe(0);
    expect((JSON.parse(r.out) as TrustDocument).rekor).toBeUndefined();
  });

  it('refuses one flag without the other, a bad PEM, and the log’s own key; writes nothing', async () => {
    const keys = (await (await fetch(`${stack.info.apiUrl}/v1/keys?log=${stack.info.logId}`)).json()) as {
      keys: { pem: string }[];
    };
    const logPem = join(dir, 'log-key.pem');
    writeFileSync(logPem, keys.keys[0]?.pem ?? '');
    const notPem = join(dir, 'not.pem');
    writeFileSync(notPem, 'hello\n');
    const out = join(dir, 'never.json');
    const cases: [string[], RegExp][] = [
      [['--rekor-log-key', stack.info.rekorVkey], /--rekor-log-key needs at least one --rekor-anchor-key/],
      [['--rekor-anchor-key', anchorPem], /--rekor-anchor-key needs at least one --rekor-log-key/],
      [['--rekor-log-key', stack.info.rekorVkey, '--rekor-anchor-key', notPem], /not a P-256 PUBLIC KEY PEM/],
      [
        ['--rekor-log-key', stack.info.rekorVkey, '--rekor-anchor-key', logPem],
        /the log's checkpoint key, not the Rekor anchor key/,
      ],
      [
        ['--rekor-log-key', stack.info.rekorVkey, '--rekor-anchor-key', join(dir, 'missing.pem')],
        /cannot read/,
      ],
      [['--rekor-log-key', 'not-a-vkey', '--rekor-anchor-key', anchorPem], /--rekor-log-key/],
    ];
    for (const [args, message] of cases) {
      const r = await trust(['-o', out, ...args]);
      expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(2);
      expect(r.err).toMatch(message);
      expect(existsSync(out)).toBe(false);
    }
  });
});
