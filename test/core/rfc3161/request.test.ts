import * as asn1js from 'asn1js';
import { TimeStampReq } from 'pkijs';
import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/hash.ts';
import { buildTimestampRequest, TimestampError } from '../../../src/core/rfc3161/index.ts';

function decode(der: Uint8Array): TimeStampReq {
  return new TimeStampReq({ schema: asn1js.fromBER(der.slice().buffer).result });
}

describe('buildTimestampRequest (RFC 3161 §2.4.1)', () => {
  const data = utf8('checkpoint text\n');

  it('encodes version 1, SHA-256 imprint, nonce, certReq TRUE, no policy by default', () => {
    const nonce = new Uint8Array([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0]);
    const req = decode(buildTimestampRequest({ imprint: { data }, nonce }));
    expect(req.version).toBe(1);
    expect(req.messageImprint.hashAlgorithm.algorithmId).toBe('2.16.840.1.101.3.4.2.1');
    expect(toHex(new Uint8Array(req.messageImprint.hashedMessage.valueBlock.valueHexView))).toBe(
      toHex(sha256(data)),
    );
    expect(toHex(new Uint8Array(req.nonce?.valueBlock.valueHexView ?? []))).toBe('123456789abcdef0');
    expect(req.certReq).toBe(true);
    expect(req.reqPolicy).toBeUndefined();
  });

  it('is deterministic given the nonce, and takes a digest directly', () => {
    const nonce = new Uint8Array(8).fill(7);
    const a = buildTimestampRequest({ imprint: { data }, nonce });
    const b = buildTimestampRequest({ imprint: { digest: sha256(data) }, nonce });
    expect(toHex(a)).toBe(toHex(b));
  });

  it('keeps a high-bit nonce positive (leading 0x00) and strips leading zeros (DER INTEGER)', () => {
    const hi = decode(
      buildTimestampRequest({ imprint: { data }, nonce: new Uint8Array([0xff, 1, 2, 3, 4, 5, 6, 7]) }),
    );
    expect(toHex(new Uint8Array(hi.nonce?.valueBlock.valueHexView ?? []))).toBe('00ff01020304050607');
    const lo = decode(
      buildTimestampRequest({ imprint: { data }, nonce: new Uint8Array([0, 0, 1, 2, 3, 4, 5, 6]) }),
    );
    expect(toHex(new Uint8Array(lo.nonce?.valueBlock.valueHexView ?? []))).toBe('010203040506');
  });

  it('carries an optional policy and can turn certReq off', () => {
    const req = decode(
      buildTimestampRequest({
        imprint: { data },
        nonce: new Uint8Array(8),
        policy: '1.2.3.4.1',
        certReq: false,
      }),
    );
    expect(req.reqPolicy).toBe('1.2.3.4.1');
    expect(req.certReq ?? false).toBe(false); // DEFAULT FALSE is omitted in DER
  });

  it('refuses bad arguments with INVALID_ARGUMENT', () => {
    const bad = [
      () => buildTimestampRequest({ imprint: { data }, nonce: new Uint8Array(7) }),
      () => buildTimestampRequest({ imprint: { digest: new Uint8Array(20) }, nonce: new Uint8Array(8) }),
      () => buildTimestampRequest({ imprint: { data }, nonce: new Uint8Array(8), policy: 'not.an.oid' }),
    ];
    for (const f of bad) {
      expect(f).toThrow(TimestampError);
      try {
        f();
      } catch (e) {
        expect((e as TimestampError).code).toBe('INVALID_ARGUMENT');
      }
    }
  });
});
