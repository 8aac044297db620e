import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runTimestampVerify } from '../../src/cli/timestamp-verify.ts';
import { toBase64 } from '../../src/core/bytes.ts';
import { REAL_CASES, type RealCase, SHA1_CASES, vectorPath } from '../core/rfc3161/cases.ts';
import { captureIo } from './support.ts';

function argsFor(c: RealCase): string[] {
  const a = ['--in', vectorPath(c.token), '--ca', vectorPath(c.ca)];
  if (c.data) a.push('--data', vectorPath(c.data));
  else a.push('--digest', c.digest ?? '');
  if (c.untrusted) a.push('--untrusted', vectorPath(c.untrusted));
  return a;
}

const byName = (n: string) => REAL_CASES.find((c) => c.name === n) as RealCase;

describe('anchorlog timestamp verify: the 51 real-world cases', () => {
  // By default SHA-1 tokens are refused (exit 1, WEAK_HASH) where openssl, whose
  // verdict `exit` records, accepts them; with --allow-sha1 every case matches openssl.
  it.each(REAL_CASES.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    const sha1 = SHA1_CASES.includes(c.name);
    const byDefault = captureIo();
    expect(await runTimestampVerify(argsFor(c), byDefault), byDefault.err()).toBe(sha1 ? 1 : c.exit);
    if (sha1) {
      expect(byDefault.out()).toBe('Verification: FAILED\n');
      expect(byDefault.err()).toContain(': WEAK_HASH: ');
      expect(byDefault.err()).toContain('--allow-sha1');
    }
    const io = captureIo();
    const code = await runTimestampVerify([...argsFor(c), '--allow-sha1'], io);
    expect(code, io.err()).toBe(c.exit);
    if (sha1) expect(io.out()).toMatch(/WARNING: .*SHA-1/);
    if (c.exit === 0) {
      expect(io.out()).toContain('Verification: OK');
      expect(io.out()).toMatch(/genTime: +\d{4}-\d\d-\d\dT/);
      expect(io.out()).toMatch(/serial: +[0-9a-f]+/);
      expect(io.out()).toMatch(/policy: +\d/);
      expect(io.out()).toMatch(/TSA: +\S/);
    } else {
      expect(io.out()).toContain('Verification: FAILED');
      expect(io.err()).toMatch(/: [A-Z_]+: /);
    }
  });
});

describe('anchorlog timestamp verify: output', () => {
  it('--json on success and on failure', async () => {
    const ok = captureIo();
    expect(await runTimestampVerify([...argsFor(byName('freetsa-2024-resp')), '--json'], ok)).toBe(0);
    const r = JSON.parse(ok.out());
    expect(r).toMatchObject({ ok: true, genTime: '2024-04-09T05:29:39.000Z', hashAlgorithm: 'SHA-512' });
    expect(r.chain).toHaveLength(2);

    const bad = captureIo();
    expect(await runTimestampVerify([...argsFor(byName('globalsign-rejection')), '--json'], bad)).toBe(1);
    expect(JSON.parse(bad.out())).toEqual({
      ok: false,
      error: { code: 'STATUS_NOT_GRANTED', message: expect.stringContaining('badAlg') },
    });
  });

  it('accepts a PEM token and a DER root', async () => {
    const c = byName('freetsa-2024-token-v1');
    const der = readFileSync(vectorPath(c.token));
    const pem = `-----BEGIN PKCS7-----\n${(toBase64(der).match(/.{1,64}/g) ?? []).join('\n')}\n-----END PKCS7-----\n`;
    const rootPem = readFileSync(vectorPath(c.ca), 'utf8');
    const rootDer = Buffer.from(rootPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const io = captureIo({ '/mem/token.pem': new TextEncoder().encode(pem), '/mem/root.der': rootDer });
    const code = await runTimestampVerify(
      ['--in', '/mem/token.pem', '--data', vectorPath(c.data ?? ''), '--ca', '/mem/root.der'],
      io,
    );
    expect(code, io.err()).toBe(0);
  });

  it('--help prints usage and exits 0', async () => {
    const io = captureIo();
    expect(await runTimestampVerify(['--help'], io)).toBe(0);
    expect(io.out()).toContain('usage: anchorlog timestamp verify');
  });
});

describe('anchorlog timestamp verify: usage errors exit 2', () => {
  const c = byName('freetsa-2024-resp');
  const token = vectorPath(c.token);
  const data = vectorPath(c.data ?? '');
  const ca = vectorPath(c.ca);
  const cases: Array<[string, string[]]> = [
    ['unknown flag', ['--in', token, '--data', data, '--ca', ca, '--bogus']],
    ['positional argument', ['--in', token, '--data', data, '--ca', ca, 'extra']],
    ['missing --in', ['--data', data, '--ca', ca]],
    ['missing --ca', ['--in', token, '--data', data]],
    ['both --data and --digest', ['--in', token, '--data', data, '--digest', 'aa', '--ca', ca]],
    ['neither --data nor --digest', ['--in', token, '--ca', ca]],
    ['bad hex', ['--in', token, '--digest', 'xyz', '--ca', ca]],
    ['odd-length hex', ['--in', token, '--digest', 'abc', '--ca', ca]],
    ['unreadable token', ['--in', '/nonexistent/token.tsr', '--data', data, '--ca', ca]],
    ['unreadable data', ['--in', token, '--data', '/nonexistent/data', '--ca', ca]],
    ['unreadable CA', ['--in', token, '--data', data, '--ca', '/nonexistent/ca.pem']],
    ['CA file without certificates', ['--in', token, '--data', data, '--ca', data]],
  ];
  it.each(cases)('%s', async (_n, argv) => {
    const io = captureIo();
    expect(await runTimestampVerify(argv, io)).toBe(2);
    expect(io.err()).toContain('usage: anchorlog timestamp verify');
  });

  it('garbage token is invalid (1, MALFORMED), not a usage error', async () => {
    const io = captureIo({ '/mem/garbage': new Uint8Array([1, 2, 3]) });
    expect(await runTimestampVerify(['--in', '/mem/garbage', '--data', data, '--ca', ca], io)).toBe(1);
    expect(io.err()).toContain('MALFORMED');
  });

  it('a wrong-length digest is an imprint mismatch (1)', async () => {
    const io = captureIo();
    expect(await runTimestampVerify(['--in', token, '--digest', 'aa'.repeat(32), '--ca', ca], io)).toBe(1);
    expect(io.err()).toContain('IMPRINT_MISMATCH');
  });
});
