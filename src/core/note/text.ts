/**
 * Character-level rules shared by note parsing and signing.
 * https://c2sp.org/signed-note#format
 */
import { fromUtf8 } from '../bytes.ts';
import { NoteError } from './errors.ts';

/**
 * Upper bound on a whole signed note, in UTF-8 bytes. The spec asks verifiers
 * to bound signature count or size; 1 MiB holds MAX_SIGNATURES post-quantum
 * signatures (~5 kB each) with room to spare, and stops a hostile peer from
 * making us decode megabytes of base64.
 */
export const MAX_NOTE_BYTES = 1024 * 1024;

/**
 * Signature lines accepted per note. The spec requires at least 16; Go's
 * golang.org/x/mod/sumdb/note uses 100, and so do we, so any note Go accepts
 * we accept too.
 */
export const MAX_SIGNATURES = 100;

// Go's unicode.IsSpace, which golang.org/x/mod/sumdb/note uses for key names:
// ASCII whitespace, NEL, NBSP and the Unicode Z* space separators.
// (The ASCII controls among them are listed in hasControl's range.)
const UNICODE_SPACE = /[ \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;

/** Any code unit below U+0020, newline included unless `allowNewline`. */
function hasControl(text: string, allowNewline: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && !(allowNewline && c === 0x0a)) return true;
  }
  return false;
}
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** https://c2sp.org/signed-note#format: non-empty, no Unicode spaces, no `+`. */
export function isValidKeyName(name: string): boolean {
  return (
    name.length > 0 &&
    !hasControl(name, false) &&
    !UNICODE_SPACE.test(name) &&
    !name.includes('+') &&
    !LONE_SURROGATE.test(name)
  );
}

/**
 * Decodes (if bytes) and checks the whole note: size bound, valid UTF-8, no
 * control characters except newline. Returns the note as a string.
 */
export function checkNoteCharacters(input: string | Uint8Array): string {
  let text: string;
  if (typeof input === 'string') {
    // A JS string of n UTF-16 units is at least n UTF-8 bytes, so this bound is safe to check first.
    if (input.length > MAX_NOTE_BYTES) throw new NoteError('NOTE_TOO_LARGE', 'note exceeds size limit');
    if (LONE_SURROGATE.test(input)) throw new NoteError('INVALID_UTF8', 'note contains a lone surrogate');
    if (new TextEncoder().encode(input).length > MAX_NOTE_BYTES)
      throw new NoteError('NOTE_TOO_LARGE', 'note exceeds size limit');
    text = input;
  } else {
    if (input.length > MAX_NOTE_BYTES) throw new NoteError('NOTE_TOO_LARGE', 'note exceeds size limit');
    try {
      text = fromUtf8(input);
    } catch (cause) {
      throw new NoteError('INVALID_UTF8', 'note is not valid UTF-8', { cause });
    }
    // TextDecoder drops a leading BOM; re-encoding keeps the bytes we verify identical to the input.
    if (input.length >= 3 && input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf)
      text = `\ufeff${text}`;
  }
  // https://c2sp.org/signed-note#format: "MUST NOT contain any ASCII control
  // characters (those below U+0020) other than newline".
  if (hasControl(text, true))
    throw new NoteError('CONTROL_CHARACTER', 'note contains an ASCII control character other than newline');
  return text;
}
