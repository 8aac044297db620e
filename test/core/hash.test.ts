import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64, fromHex, toBase64, toHex, utf8 } from '../../src/core/bytes.ts';
import { sha256, sha256Into, sha256Noble } from '../../src/core/hash.ts';

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
  it('digests never share memory (a Buffer pool would)', () => {
    const a = sha256(utf8('a'));
    const b = sha256(utf8('b'));
    expect(a.buffer).not.toBe(b.buffer);
    expect(a.byteOffset).toBe(0);
    expect(a.buffer.byteLength).toBe(32);
  });
  it('sha256Into writes exactly 32 bytes at the offset, even over its own input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.nat(50), (d, offset) => {
        const out = new Uint8Array(offset + 32 + 8).fill(0xee);
        sha256Into(d, out, offset);
        expect(out.subarray(offset, offset + 32)).toEqual(sha256Noble(d));
        expect(out.subarray(0, offset).every((x) => x === 0xee)).toBe(true);
        expect(out.subarray(offset + 32).every((x) => x === 0xee)).toBe(true);
        // Output over the input it hashes: the input is read first.
        const buf = new Uint8Array(d.length + 32);
        buf.set(d);
        sha256Into(buf.subarray(0, d.length), buf, 0);
        expect(buf.subarray(0, 32)).toEqual(sha256Noble(d));
      }),
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
