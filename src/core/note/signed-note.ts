/**
 * Parsing and formatting of C2SP signed notes.
 * https://c2sp.org/signed-note#format
 *
 * Parsing only splits and checks the syntax; it says nothing about who signed
 * the note. Callers MUST NOT use the text of a parsed note until
 * `verifyNote` has checked a trusted signature.
 */
import { fromBase64, toBase64 } from '../bytes.ts';
import { NoteError } from './errors.ts';
import { checkNoteCharacters, isValidKeyName, MAX_SIGNATURES } from './text.ts';

/** One signature line: `— <name> base64(keyId ‖ signature)`. */
export interface NoteSignature {
  readonly name: string;
  /** The 4-byte key ID ("key hash") that prefixes the signature. */
  readonly keyId: Uint8Array;
  /** The signature proper, after the key ID. */
  readonly signature: Uint8Array;
}

export interface ParsedNote {
  /** The signed text, including its final newline, excluding the blank separator line. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

// U+2014 EM DASH, then a space.
const SIG_PREFIX = '\u2014 ';

/**
 * Parses a signed note. Hostile input yields a `NoteError`, never another
 * exception: this function runs on text fetched from untrusted peers.
 */
export function parseNote(input: string | Uint8Array): ParsedNote {
  const note = checkNoteCharacters(input);
  // https://c2sp.org/signed-note#format: "the text is separated from the
  // signatures by the last empty line in the note". The signature block
  // cannot contain an empty line, so the last "\n\n" is the separator.
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new NoteError('MISSING_SEPARATOR', 'note has no blank line before its signatures');
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block.length === 0) throw new NoteError('MISSING_SEPARATOR', 'note has no signature lines');
  if (!block.endsWith('\n'))
    throw new NoteError('MALFORMED_SIGNATURE_LINE', 'last signature line does not end in newline');
  const lines = block.slice(0, -1).split('\n');
  // Bound the work before decoding anything.
  if (lines.length > MAX_SIGNATURES)
    throw new NoteError('TOO_MANY_SIGNATURES', `note has more than ${MAX_SIGNATURES} signatures`);
  return { text, signatures: lines.map(parseSignatureLine) };
}

function parseSignatureLine(line: string, i: number): NoteSignature {
  if (!line.startsWith(SIG_PREFIX))
    throw new NoteError('MALFORMED_SIGNATURE_LINE', `signature line ${i + 1} does not start with "— "`);
  const rest = line.slice(SIG_PREFIX.length);
  const space = rest.indexOf(' ');
  if (space < 0)
    throw new NoteError(
      'MALFORMED_SIGNATURE_LINE',
      `signature line ${i + 1} has no space after the key name`,
    );
  const name = rest.slice(0, space);
  const b64 = rest.slice(space + 1);
  if (!isValidKeyName(name))
    throw new NoteError('INVALID_KEY_NAME', `signature line ${i + 1}: invalid key name`);
  let raw: Uint8Array;
  try {
    raw = fromBase64(b64);
  } catch (cause) {
    throw new NoteError('MALFORMED_SIGNATURE_LINE', `signature line ${i + 1}: invalid base64`, { cause });
  }
  // At least the 4-byte key ID plus one byte of signature, as Go requires.
  if (raw.length < 5)
    throw new NoteError('MALFORMED_SIGNATURE_LINE', `signature line ${i + 1}: signature too short`);
  return { name, keyId: raw.slice(0, 4), signature: raw.slice(4) };
}

/** Formats one signature line, without its newline. */
export function formatSignatureLine(sig: NoteSignature): string {
  if (!isValidKeyName(sig.name)) throw new NoteError('INVALID_KEY_NAME', 'invalid key name');
  if (sig.keyId.length !== 4) throw new NoteError('INVALID_SIGNER', 'key ID must be 4 bytes');
  if (sig.signature.length === 0) throw new NoteError('INVALID_SIGNER', 'empty signature');
  const raw = new Uint8Array(4 + sig.signature.length);
  raw.set(sig.keyId, 0);
  raw.set(sig.signature, 4);
  return `${SIG_PREFIX}${sig.name} ${toBase64(raw)}`;
}

/**
 * Checks that `text` can be the text of a signed note: valid characters, ends
 * in newline. Returns it unchanged.
 */
export function checkNoteText(text: string): string {
  checkNoteCharacters(text);
  if (!text.endsWith('\n')) throw new NoteError('MISSING_SEPARATOR', 'note text must end in a newline');
  return text;
}

/**
 * Assembles a signed note from its text and signatures. The result
 * round-trips through `parseNote` (checked, so a bug here cannot publish an
 * unparseable checkpoint).
 */
export function formatNote(text: string, signatures: readonly NoteSignature[]): string {
  checkNoteText(text);
  if (signatures.length === 0)
    throw new NoteError('INVALID_SIGNER', 'a signed note needs at least one signature');
  if (signatures.length > MAX_SIGNATURES)
    throw new NoteError('TOO_MANY_SIGNATURES', `more than ${MAX_SIGNATURES} signatures`);
  const out = `${text}\n${signatures.map((s) => `${formatSignatureLine(s)}\n`).join('')}`;
  const back = parseNote(out);
  if (back.text !== text || back.signatures.length !== signatures.length)
    throw new NoteError('MALFORMED_SIGNATURE_LINE', 'formatted note does not round-trip');
  return out;
}
