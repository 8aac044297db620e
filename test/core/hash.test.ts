import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64, fromHex, toBase64, toHex, utf8 } from '../../src/core/bytes.ts';
import { sha256, sha256Noble } from '../../src/core/hash.ts';

describe('sha256', () => {
  it('matches the FIPS 180-2 "abc" vector', () => {
    expect(toHex(sha256(utf8('abc')))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
  it('node:crypto and @noble/hashes agree', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (d) => toHex(sha256(d)) === toHex(sha256Noble(d))),
    );
  });
});

describe('base64 and hex', () => {
  it('round-trips and matches Buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (d) => {
        const b64 = toBase64(d);
        expect(b64).toBe(Buffer.from(d).toString('base64'));
        expect(fromBase64(b64)).toEqual(d);
        expect(fromHex(toHex(d))).toEqual(d);
      }),
    );
  });
  it.each(['a', 'ab=c', 'ab==', 'YQ', 'YR==', 'YWI=x', '****', 'YW I=', 'YWJ-'])('rejects %j', (s) => {
    expect(() => fromBase64(s)).toThrowError(expect.objectContaining({ code: 'INVALID_BASE64' }));
  });
  it.each(['0', 'zz', '0x00'])('rejects hex %j', (s) => {
    expect(() => fromHex(s)).toThrowError(expect.objectContaining({ code: 'INVALID_HEX' }));
  });
});
