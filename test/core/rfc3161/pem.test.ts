import { describe, expect, it } from 'vitest';
import { toBase64, utf8 } from '../../../src/core/bytes.ts';
import {
  decodePem,
  decodePemCertificates,
  looksLikePem,
  TimestampError,
} from '../../../src/core/rfc3161/index.ts';

const wrap = (label: string, der: Uint8Array) =>
  `-----BEGIN ${label}-----\n${(toBase64(der).match(/.{1,64}/g) ?? []).join('\n')}\n-----END ${label}-----\n`;

describe('PEM', () => {
  it('decodes several blocks with text around them, keeping only certificates', () => {
    const a = new Uint8Array([1, 2, 3]);
    const b = new Uint8Array(100).fill(9);
    const text = `subject=foo\n${wrap('CERTIFICATE', a)}junk\n${wrap('PRIVATE KEY', a)}${wrap('CERTIFICATE', b)}`;
    expect(looksLikePem(utf8(text))).toBe(true);
    expect(decodePemCertificates(text)).toEqual([a, b]);
    expect(decodePem(text).map((x) => x.label)).toEqual(['CERTIFICATE', 'PRIVATE KEY', 'CERTIFICATE']);
  });

  it('refuses damaged base64 with MALFORMED', () => {
    expect(() => decodePem('-----BEGIN CERTIFICATE-----\nAB!C\n-----END CERTIFICATE-----')).toThrow(
      TimestampError,
    );
  });

  it('does not take DER for PEM', () => {
    expect(looksLikePem(new Uint8Array([0x30, 0x82, 0x01]))).toBe(false);
  });
});
