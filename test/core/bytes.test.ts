/**
 * The one base64url and the one PEM implementation (src/core/bytes.ts,
 * src/core/pem.ts). The encoder's output is pinned byte for byte: archived
 * `…chain.pem` objects are immutable, so a re-anchor after a crash must write
 * exactly what the first attempt wrote.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EncodingError, fromBase64Url, toBase64, toBase64Url } from '../../src/core/bytes.ts';
import { decodeOnePem, decodePemBlocks, encodePem, encodePemCertificates } from '../../src/core/pem.ts';

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    return e instanceof EncodingError ? e.code : `not an EncodingError: ${String(e)}`;
  }
}

describe('base64url', () => {
  it('round-trips and matches Node’s encoder', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        const text = toBase64Url(b);
        expect(text).toBe(Buffer.from(b).toString('base64url'));
        expect(fromBase64Url(text)).toEqual(b);
      }),
    );
  });

  it('accepts exactly one spelling per byte string', () => {
    expect(codeOf(() => fromBase64Url('-_9'))).toBe('INVALID_BASE64'); // spare bits set
    expect(codeOf(() => fromBase64Url('A'))).toBe('INVALID_BASE64'); // impossible length
    expect(codeOf(() => fromBase64Url('AA=='))).toBe('INVALID_BASE64'); // padding
    expect(codeOf(() => fromBase64Url('+/8'))).toBe('INVALID_BASE64'); // standard alphabet
  });
});

describe('PEM', () => {
  it('encodes as the archive already holds it: 64-character lines, LF, final newline', () => {
    const der = new Uint8Array(randomBytes(60)); // 80 base64 characters: a full line and a short one
    const b64 = toBase64(der);
    expect(encodePem('CERTIFICATE', der)).toBe(
      `-----BEGIN CERTIFICATE-----\n${b64.slice(0, 64)}\n${b64.slice(64)}\n-----END CERTIFICATE-----\n`,
    );
    expect(encodePemCertificates([der, der])).toBe(encodePem('CERTIFICATE', der).repeat(2));
  });

  it('decodes what it encodes, leniently between blocks and strictly inside', () => {
    const a = new Uint8Array(randomBytes(70));
    const b = new Uint8Array(randomBytes(3));
    const text = `subject=CN=x\r\n${encodePem('CERTIFICATE', a)}junk\n${encodePem('X509 CRL', b)}`;
    expect(decodePemBlocks(text)).toEqual([
      { label: 'CERTIFICATE', der: a },
      { label: 'X509 CRL', der: b },
    ]);
    expect(codeOf(() => decodePemBlocks('-----BEGIN X-----\nAB!=\n-----END X-----\n'))).toBe('INVALID_PEM');
  });

  it('the strict decoder takes exactly one block of the named label', () => {
    const der = new Uint8Array(randomBytes(40));
    const one = encodePem('PUBLIC KEY', der);
    expect(decodeOnePem(one, 'PUBLIC KEY')).toEqual(der);
    expect(decodeOnePem(one.replace(/\n/g, '\r\n'), 'PUBLIC KEY')).toEqual(der);
    for (const bad of [
      `${one}${one}`,
      `x\n${one}`,
      one.replace('PUBLIC KEY-----\n', 'PUBLIC KEY-----\n\n'),
      encodePem('CERTIFICATE', der),
    ])
      expect(codeOf(() => decodeOnePem(bad, 'PUBLIC KEY'))).toBe('INVALID_PEM');
  });
});
