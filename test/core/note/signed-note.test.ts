import { describe, expect, it } from 'vitest';
import { utf8 } from '../../../src/core/bytes.ts';
import {
  formatNote,
  MAX_NOTE_BYTES,
  MAX_SIGNATURES,
  NoteError,
  parseNote,
  parseVerifierKey,
  verifyNote,
} from '../../../src/core/note/index.ts';

const SIG = 'AAAAAAE='; // key ID 00000000, one signature byte
const ok = `origin\n1\n${'A'.repeat(43)}=\n\n— name ${SIG}\n`;

function code(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(NoteError);
    return (err as NoteError).code;
  }
  return 'NO_ERROR';
}

// https://c2sp.org/signed-note example
const SPEC_VKEY = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k';
const SPEC_NOTE =
  'This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';

describe('parseNote', () => {
  it('splits text and signatures at the last blank line', () => {
    const n = parseNote(`a\n\nb\n\n— k ${SIG}\n— k2 ${SIG}\n`);
    expect(n.text).toBe('a\n\nb\n');
    expect(n.signatures.map((s) => s.name)).toEqual(['k', 'k2']);
    expect([...(n.signatures[0]?.keyId ?? [])]).toEqual([0, 0, 0, 0]);
    expect([...(n.signatures[0]?.signature ?? [])]).toEqual([1]);
  });

  it('accepts bytes as well as strings', () => {
    expect(parseNote(utf8(ok)).text).toBe(parseNote(ok).text);
  });

  it('verifies the example of the signed-note spec (Ed25519)', () => {
    expect(verifyNote(SPEC_NOTE, [parseVerifierKey(SPEC_VKEY)]).text).toBe('This is an example message.\n');
  });

  it.each([
    ['no blank line', `origin\n— name ${SIG}\n`, 'MISSING_SEPARATOR'],
    ['empty input', '', 'MISSING_SEPARATOR'],
    ['blank line but no signatures', 'origin\n\n', 'MISSING_SEPARATOR'],
    ['trailing blank line after signatures', `origin\n\n— name ${SIG}\n\n`, 'MISSING_SEPARATOR'],
    ['signature block without final newline', `origin\n\n— name ${SIG}`, 'MALFORMED_SIGNATURE_LINE'],
    ['hyphen instead of em dash', `o\n\n- name ${SIG}\n`, 'MALFORMED_SIGNATURE_LINE'],
    ['en dash instead of em dash', `o\n\n\u2013 name ${SIG}\n`, 'MALFORMED_SIGNATURE_LINE'],
    ['no space after dash', `o\n\n—name ${SIG}\n`, 'MALFORMED_SIGNATURE_LINE'],
    ['no signature after name', 'o\n\n— name\n', 'MALFORMED_SIGNATURE_LINE'],
    ['empty signature', 'o\n\n— name \n', 'MALFORMED_SIGNATURE_LINE'],
    ['two spaces before signature', `o\n\n— name  ${SIG}\n`, 'MALFORMED_SIGNATURE_LINE'],
    ['trailing space', `o\n\n— name ${SIG} \n`, 'MALFORMED_SIGNATURE_LINE'],
    ['signature of only the key ID', 'o\n\n— name AAAAAA==\n', 'MALFORMED_SIGNATURE_LINE'],
    ['unpadded base64', 'o\n\n— name AAAAAAE\n', 'MALFORMED_SIGNATURE_LINE'],
    ['non-canonical base64', 'o\n\n— name AAAAAAF=\n', 'MALFORMED_SIGNATURE_LINE'],
    ['URL-safe base64', 'o\n\n— name AAAA_-E=\n', 'MALFORMED_SIGNATURE_LINE'],
    ['empty key name', `o\n\n—  ${SIG}\n`, 'INVALID_KEY_NAME'],
    ['plus in key name', `o\n\n— a+b ${SIG}\n`, 'INVALID_KEY_NAME'],
    ['NBSP in key name', `o\n\n— a\u00a0b ${SIG}\n`, 'INVALID_KEY_NAME'],
    ['ideographic space in key name', `o\n\n— a\u3000b ${SIG}\n`, 'INVALID_KEY_NAME'],
    ['carriage return', `o\r\n\n— name ${SIG}\n`, 'CONTROL_CHARACTER'],
    ['tab', `o\tx\n\n— name ${SIG}\n`, 'CONTROL_CHARACTER'],
    ['NUL', `o\u0000\n\n— name ${SIG}\n`, 'CONTROL_CHARACTER'],
    ['lone surrogate', `o\ud800\n\n— name ${SIG}\n`, 'INVALID_UTF8'],
  ])('rejects %s', (_what, text, expected) => {
    expect(code(() => parseNote(text))).toBe(expected);
  });

  it('rejects invalid UTF-8 bytes', () => {
    const bytes = utf8(ok);
    bytes[0] = 0xff;
    expect(code(() => parseNote(bytes))).toBe('INVALID_UTF8');
    // An overlong encoding of '/' and a truncated em dash.
    expect(code(() => parseNote(Uint8Array.of(0xc0, 0xaf, 0x0a, 0x0a)))).toBe('INVALID_UTF8');
    expect(code(() => parseNote(Uint8Array.of(0x61, 0x0a, 0x0a, 0xe2, 0x80)))).toBe('INVALID_UTF8');
  });

  it('keeps a leading BOM in the signed bytes rather than silently dropping it', () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...utf8(ok)]);
    expect(parseNote(bytes).text.startsWith('\ufeff')).toBe(true);
  });

  it(`accepts ${MAX_SIGNATURES} signatures (spec: at least 16) and refuses one more`, () => {
    const lines = (n: number) => Array.from({ length: n }, (_, i) => `— k${i} ${SIG}\n`).join('');
    expect(parseNote(`o\n\n${lines(16)}`).signatures).toHaveLength(16);
    expect(parseNote(`o\n\n${lines(MAX_SIGNATURES)}`).signatures).toHaveLength(MAX_SIGNATURES);
    expect(code(() => parseNote(`o\n\n${lines(MAX_SIGNATURES + 1)}`))).toBe('TOO_MANY_SIGNATURES');
  });

  it('refuses notes over the size limit, as string and as bytes', () => {
    const big = `${'a'.repeat(MAX_NOTE_BYTES)}\n\n— k ${SIG}\n`;
    expect(code(() => parseNote(big))).toBe('NOTE_TOO_LARGE');
    expect(code(() => parseNote(utf8(big)))).toBe('NOTE_TOO_LARGE');
    // Multi-byte characters count in bytes, not UTF-16 units.
    const wide = `${'é'.repeat(MAX_NOTE_BYTES / 2 + 1)}\n\n— k ${SIG}\n`;
    expect(code(() => parseNote(wide))).toBe('NOTE_TOO_LARGE');
  });

  it('formatNote output round-trips and refuses bodies that are not note text', () => {
    const sig = { name: 'k', keyId: Uint8Array.of(1, 2, 3, 4), signature: Uint8Array.of(9) };
    const note = formatNote('hello\n', [sig]);
    expect(note).toBe('hello\n\n— k AQIDBAk=\n');
    expect(parseNote(note).signatures[0]?.name).toBe('k');
    expect(code(() => formatNote('hello', [sig]))).toBe('MISSING_SEPARATOR');
    expect(code(() => formatNote('a\rb\n', [sig]))).toBe('CONTROL_CHARACTER');
    expect(code(() => formatNote('a\n', []))).toBe('INVALID_SIGNER');
    expect(code(() => formatNote('a\n', [{ ...sig, name: 'a b' }]))).toBe('INVALID_KEY_NAME');
    expect(code(() => formatNote('a\n', [{ ...sig, keyId: Uint8Array.of(1) }]))).toBe('INVALID_SIGNER');
  });
});
