/**
 * tlog-checkpoint note text: origin, tree size, root hash, extension lines.
 * https://c2sp.org/tlog-checkpoint#note-text
 */
import { fromBase64, toBase64 } from '../bytes.ts';
import { NoteError } from './errors.ts';
import { checkNoteText } from './signed-note.ts';

export interface Checkpoint {
  /** Line 1: the log's identity. Not necessarily the signing key's name (Rekor v1 differs). */
  readonly origin: string;
  /** Line 2: number of leaves. Limited to Number.MAX_SAFE_INTEGER (2^53 − 1). */
  readonly size: number;
  /** Line 3: the RFC 6962 SHA-256 Merkle root, 32 bytes. */
  readonly rootHash: Uint8Array;
  /** Lines 4…: opaque, non-empty. We never emit them but must accept other logs' (Rekor v1 "Timestamp: …"). */
  readonly extensions: readonly string[];
}

// Decimal, no leading zeros unless the value is 0 (spec §Note text, item 2).
const SIZE = /^(0|[1-9][0-9]*)$/;

/** Parses checkpoint note text (already separated from its signatures). */
export function parseCheckpoint(text: string): Checkpoint {
  try {
    checkNoteText(text);
  } catch (cause) {
    throw new NoteError('MALFORMED_CHECKPOINT', 'checkpoint text is not valid note text', { cause });
  }
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw new NoteError('MALFORMED_CHECKPOINT', 'checkpoint needs origin, size and root');
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin.length === 0) throw new NoteError('MALFORMED_CHECKPOINT', 'empty origin line');
  // 16 digits bounds the work and the value before conversion.
  if (!SIZE.test(sizeText) || sizeText.length > 16)
    throw new NoteError('MALFORMED_CHECKPOINT', 'tree size is not a canonical decimal');
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size))
    throw new NoteError(
      'MALFORMED_CHECKPOINT',
      'tree size exceeds 2^53 - 1, which this verifier does not support',
    );
  let rootHash: Uint8Array;
  try {
    rootHash = fromBase64(rootText);
  } catch (cause) {
    throw new NoteError('MALFORMED_CHECKPOINT', 'root hash is not base64', { cause });
  }
  if (rootHash.length !== 32) throw new NoteError('MALFORMED_CHECKPOINT', 'root hash is not 32 bytes');
  if (extensions.some((l) => l.length === 0))
    throw new NoteError('MALFORMED_CHECKPOINT', 'extension lines must be non-empty');
  return { origin, size, rootHash, extensions };
}

/**
 * Formats our own checkpoint text. The only extension lines we emit are class
 * roots (docs/formats.md §Class roots), which `anchorlog monitor` audits; a
 * log without classes emits none.
 */
export function formatCheckpoint(cp: {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  extensions?: readonly string[];
}): string {
  if (cp.origin.length === 0 || cp.origin.includes('\n'))
    throw new NoteError('MALFORMED_CHECKPOINT', 'origin must be one non-empty line');
  if (!Number.isSafeInteger(cp.size) || cp.size < 0)
    throw new NoteError('MALFORMED_CHECKPOINT', 'size must be a non-negative safe integer');
  if (cp.rootHash.length !== 32) throw new NoteError('MALFORMED_CHECKPOINT', 'root hash must be 32 bytes');
  const ext = cp.extensions ?? [];
  if (ext.some((l) => l.length === 0 || l.includes('\n')))
    throw new NoteError('MALFORMED_CHECKPOINT', 'extension lines must be one non-empty line each');
  const text = `${cp.origin}\n${cp.size}\n${toBase64(cp.rootHash)}\n${ext.map((l) => `${l}\n`).join('')}`;
  try {
    return checkNoteText(text);
  } catch (cause) {
    throw new NoteError('MALFORMED_CHECKPOINT', 'origin contains characters a note cannot carry', { cause });
  }
}
