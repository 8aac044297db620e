// Verifier keys, DER strictness, high-S acceptance, PEM, and the verifyNote rules.
import { generateKeyPairSync } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { LocalNoteSigner } from '../../../src/adapters/memory/local-signer.ts';
import { concatBytes, toBase64, toHex, utf8 } from '../../../src/core/bytes.ts';
import { sha256 } from '../../../src/core/hash.ts';
import {
  ecdsaP256Verifier,
  ed25519Verifier,
  formatCheckpoint,
  formatNote,
  formatVerifierKey,
  NoteError,
  parseVerifierKey,
  pemToSpki,
  signNote,
  spkiToPem,
  verifyNote,
  vkeyFromSpki,
} from '../../../src/core/note/index.ts';
import { derSig, P256_N, parseDerSig } from './helpers.ts';

function code(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(NoteError);
    return (err as NoteError).code;
  }
  return 'NO_ERROR';
}

const REKOR_VKEY =
  'rekor.sigstore.dev+c0d23d6a+AjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABNhtmPtrWm3U1eQXBogSMdGvXwBcK5AW5i0hrZLOC96l+smGNM7nwZ4QvFK/4sueRoVj//QP22Ni4Qt9DPfkWLc=';
const body = formatCheckpoint({ origin: 'audit.example/log', size: 3, rootHash: new Uint8Array(32).fill(1) });

describe('verifier keys', () => {
  it('0x02 key ID is SHA-256(SPKI)[:4], independent of the name (matches Rekor)', () => {
    const v = parseVerifierKey(REKOR_VKEY);
    expect(toHex(v.keyId)).toBe('c0d23d6a');
    expect(toHex(sha256(v.publicKey).subarray(0, 4))).toBe('c0d23d6a');
    expect(formatVerifierKey(v)).toBe(REKOR_VKEY);
    expect(vkeyFromSpki('rekor.sigstore.dev', v.publicKey)).toBe(REKOR_VKEY);
    // Same key, other name: same key ID.
    expect(vkeyFromSpki('other.example', v.publicKey).split('+')[1]).toBe('c0d23d6a');
  });

  it('0x01 key ID is SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[:4]', () => {
    const pub = ed25519.getPublicKey(new Uint8Array(32).fill(5));
    const v = ed25519Verifier('example.com/k', pub);
    const expected = sha256(concatBytes(utf8('example.com/k\n'), Uint8Array.of(1), pub)).subarray(0, 4);
    expect(v.keyId).toEqual(expected);
    expect(parseVerifierKey(formatVerifierKey(v)).publicKey).toEqual(pub);
  });

  it.each([
    ['no plus', 'abc'],
    ['one plus', 'abc+c0d23d6a'],
    ['uppercase hex', REKOR_VKEY.replace('c0d23d6a', 'C0D23D6A')],
    ['short hex', REKOR_VKEY.replace('c0d23d6a', 'c0d23d6')],
    ['empty name', REKOR_VKEY.replace('rekor.sigstore.dev', '')],
    ['space in name', REKOR_VKEY.replace('rekor.sigstore.dev', 'rekor sigstore')],
    ['bad base64', 'a+c0d23d6a+!!!!'],
    ['type byte only', 'a+c0d23d6a+Ag=='],
  ])('refuses a malformed vkey: %s', (_what, vkey) => {
    expect(code(() => parseVerifierKey(vkey))).toBe('MALFORMED_VKEY');
  });

  it('refuses a vkey whose ID does not match its key', () => {
    expect(code(() => parseVerifierKey(REKOR_VKEY.replace('c0d23d6a', 'c0d23d6b')))).toBe('VKEY_ID_MISMATCH');
  });

  it('refuses unsupported signature types with a code (0x03, 0x04, 0x05, 0xff)', () => {
    for (const t of [3, 4, 5, 0xff])
      expect(code(() => parseVerifierKey(`a+00000000+${toBase64(Uint8Array.of(t, 1, 2, 3))}`))).toBe(
        'UNSUPPORTED_KEY_TYPE',
      );
  });

  it('refuses keys that are not valid keys of their type', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({
      type: 'spki',
      format: 'der',
    });
    expect(code(() => ecdsaP256Verifier('a', new Uint8Array(p384)))).toBe('MALFORMED_PUBLIC_KEY');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
      type: 'spki',
      format: 'der',
    });
    expect(code(() => ecdsaP256Verifier('a', new Uint8Array(rsa)))).toBe('MALFORMED_PUBLIC_KEY');
    const spki = parseVerifierKey(REKOR_VKEY).publicKey;
    const offCurve = spki.slice();
    offCurve[offCurve.length - 1] = (offCurve[offCurve.length - 1] as number) ^ 1;
    expect(code(() => ecdsaP256Verifier('a', offCurve))).toBe('MALFORMED_PUBLIC_KEY');
    expect(code(() => ecdsaP256Verifier('a', concatBytes(spki, Uint8Array.of(0))))).toBe(
      'MALFORMED_PUBLIC_KEY',
    );
    expect(code(() => ed25519Verifier('a', new Uint8Array(31)))).toBe('MALFORMED_PUBLIC_KEY');
    expect(code(() => ecdsaP256Verifier('a b', spki))).toBe('INVALID_KEY_NAME');
  });
});

describe('PEM', () => {
  it('SPKI DER ↔ PEM round-trips and matches node:crypto', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const der = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(spkiToPem(der)).toBe(pem);
    expect(pemToSpki(pem)).toEqual(der);
    expect(pemToSpki(pem.replace(/\n/g, '\r\n'))).toEqual(der);
  });

  it.each([
    ['empty', ''],
    ['wrong label', '-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n'],
    ['bad base64', '-----BEGIN PUBLIC KEY-----\nMA!=\n-----END PUBLIC KEY-----\n'],
    ['two blocks', `${spkiToPem(Uint8Array.of(0x30, 0))}${spkiToPem(Uint8Array.of(0x30, 0))}`],
    ['not DER', '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'],
  ])('refuses %s', (_what, pem) => {
    expect(code(() => pemToSpki(pem))).toBe('MALFORMED_PEM');
  });
});

describe('ECDSA signatures (0x02)', () => {
  const signer = LocalNoteSigner.generate('audit.example/log');
  const verifier = ecdsaP256Verifier(signer.keyName, signer.publicKeySpki);
  const msg = utf8(body);

  it('accepts both low-S and high-S forms (KMS and OpenSSL emit both)', async () => {
    const der = await signer.sign(msg);
    const { r, s } = parseDerSig(der);
    const low = s > P256_N / 2n ? P256_N - s : s;
    const high = P256_N - low;
    expect(verifier.verify(msg, derSig(r, low))).toBe(true);
    expect(verifier.verify(msg, derSig(r, high))).toBe(true);
    expect(verifier.verify(utf8(`${body}x`), derSig(r, high))).toBe(false);
  });

  it('parses DER strictly: BER lengths, padding, negative integers, trailing bytes are invalid', async () => {
    const der = await signer.sign(msg);
    expect(verifier.verify(msg, der)).toBe(true);
    const { r, s } = parseDerSig(der);
    const good = derSig(r, s);
    const inner = good.subarray(2);
    const variants: Uint8Array[] = [
      concatBytes(good, Uint8Array.of(0)), // trailing byte
      concatBytes(Uint8Array.of(0x30, 0x81, inner.length), inner), // long-form length for < 128
      concatBytes(Uint8Array.of(0x30, 0x80), inner, Uint8Array.of(0, 0)), // indefinite length
      Uint8Array.of(0x30, inner.length + 1, ...inner), // length past the end
      derSig(0n, s), // r = 0
      derSig(r, P256_N), // s = n
      derSig(r, s + P256_N), // s ≥ n, 33 bytes
      new Uint8Array(0),
      concatBytes(new Uint8Array(32), new Uint8Array(32)), // raw r‖s is not DER
    ];
    // r with an unnecessary leading zero byte.
    const rBytes = good.subarray(4, 4 + (good[3] as number));
    const padded = concatBytes(
      Uint8Array.of(0x02, rBytes.length + 1, 0),
      rBytes,
      good.subarray(4 + rBytes.length),
    );
    variants.push(concatBytes(Uint8Array.of(0x30, padded.length), padded));
    // A negative r (high bit set, no 0x00 pad).
    if ((rBytes[0] as number) === 0) {
      const neg = concatBytes(
        Uint8Array.of(0x02, rBytes.length - 1),
        rBytes.subarray(1),
        good.subarray(4 + rBytes.length),
      );
      variants.push(concatBytes(Uint8Array.of(0x30, neg.length), neg));
    }
    for (const v of variants) expect(verifier.verify(msg, v)).toBe(false);
  });
});

describe('verifyNote rules (c2sp.org/signed-note#signatures)', () => {
  const a = LocalNoteSigner.generate('log.example/a');
  const b = LocalNoteSigner.generate('witness.example/b');
  const va = ecdsaP256Verifier(a.keyName, a.publicKeySpki);
  const vb = ecdsaP256Verifier(b.keyName, b.publicKeySpki);

  it('returns the keys that verified and the unknown signatures it ignored', async () => {
    const note = await signNote(body, [a, b]);
    const r = verifyNote(note, [va]);
    expect(r.text).toBe(body);
    expect(r.verifiedBy.map((v) => v.name)).toEqual(['log.example/a']);
    expect(r.ignored.map((s) => s.name)).toEqual(['witness.example/b']);
    expect(verifyNote(note, [va, vb]).verifiedBy).toHaveLength(2);
  });

  it('ignores a signature that shares only the name, or only the key ID, with a known key', async () => {
    const sig = await a.sign(utf8(body));
    const sameNameOtherId = formatNote(body, [
      { name: a.keyName, keyId: Uint8Array.of(1, 2, 3, 4), signature: sig },
    ]);
    const sameIdOtherName = formatNote(body, [{ name: 'other.example', keyId: a.keyId, signature: sig }]);
    expect(code(() => verifyNote(sameNameOtherId, [va]))).toBe('NO_TRUSTED_SIGNATURE');
    expect(code(() => verifyNote(sameIdOtherName, [va]))).toBe('NO_TRUSTED_SIGNATURE');
  });

  it('a bad signature from a known key rejects the note, even when another known key verified', async () => {
    const good = await a.sign(utf8(body));
    const forged = await b.sign(utf8(body)); // b's signature presented as a's
    const note = formatNote(body, [
      { name: a.keyName, keyId: a.keyId, signature: good },
      { name: b.keyName, keyId: b.keyId, signature: forged.slice(0, -1) },
    ]);
    expect(code(() => verifyNote(note, [va, vb]))).toBe('INVALID_SIGNATURE');
    expect(verifyNote(note, [va]).ignored).toHaveLength(1); // b unknown: its line is ignored
    const dupBad = formatNote(body, [
      { name: a.keyName, keyId: a.keyId, signature: good },
      { name: a.keyName, keyId: a.keyId, signature: forged },
    ]);
    expect(code(() => verifyNote(dupBad, [va]))).toBe('INVALID_SIGNATURE');
  });

  it('a body changed after signing fails', async () => {
    const note = await signNote(body, [a]);
    expect(code(() => verifyNote(note.replace('\n3\n', '\n4\n'), [va]))).toBe('INVALID_SIGNATURE');
  });

  it('required keys must all have signed', async () => {
    const note = await signNote(body, [a]);
    expect(code(() => verifyNote(note, [va], { required: [va, vb] }))).toBe('MISSING_REQUIRED_SIGNATURE');
    expect(verifyNote(await signNote(body, [a, b]), [], { required: [va, vb] }).verifiedBy).toHaveLength(2);
  });

  it('no verifiers, or none that signed: NO_TRUSTED_SIGNATURE', async () => {
    const note = await signNote(body, [a]);
    expect(code(() => verifyNote(note, []))).toBe('NO_TRUSTED_SIGNATURE');
    expect(code(() => verifyNote(note, [vb]))).toBe('NO_TRUSTED_SIGNATURE');
  });

  it('refuses two different keys under one name and key ID', () => {
    const pub1 = ed25519.getPublicKey(new Uint8Array(32).fill(1));
    const v1 = ed25519Verifier('x', pub1);
    const impostor = { ...vb, name: 'x', keyId: v1.keyId };
    expect(code(() => verifyNote(`a\n\n— x ${toBase64(new Uint8Array(9))}\n`, [v1, impostor]))).toBe(
      'DUPLICATE_VERIFIER',
    );
    // The same key twice is fine.
    expect(code(() => verifyNote(`a\n\n— y ${toBase64(new Uint8Array(9))}\n`, [v1, v1]))).toBe(
      'NO_TRUSTED_SIGNATURE',
    );
  });
});
