/**
 * C2SP tlog-witness `add-checkpoint` bodies, both directions.
 * Implemented from https://c2sp.org/tlog-witness (C2SP/C2SP main at
 * 95978ca, 2026-07-06, after tag tlog-witness/v1.0.0: same-size checkpoints
 * with different roots are 422, not 409; a checkpoint of size 0 must carry
 * the empty-tree root). `sign-subtree` is not implemented.
 *
 * Request (§add-checkpoint):
 *
 *     old <size>\n
 *     <base64 hash>\n        (0 to 63 consistency proof lines)
 *     \n
 *     <signed checkpoint note>
 *
 * Replies: 200 with one or more note signature lines (`— name base64\n`),
 * 409 with `text/x.tlog.size` body `<size>\n`, and 400/403/404/422 with any body.
 *
 * Everything here parses text from the other party (a log, for the
 * witness; a witness, for the log) and throws only WitnessError.
 */
import { fromBase64, toBase64, utf8 } from '../bytes.ts';
import { NoteError } from '../note/errors.ts';
import { type NoteSignature, parseNote } from '../note/signed-note.ts';
import { MAX_NOTE_BYTES } from '../note/text.ts';
import { WitnessError } from './errors.ts';

/** §add-checkpoint: "The client MUST NOT send more than 63 consistency proof lines." */
export const MAX_PROOF_LINES = 63;
/** Upper bound on a request body: the old line, 63 proof lines and a note. */
export const MAX_ADD_CHECKPOINT_BYTES = MAX_NOTE_BYTES + 64 * 64;
/** Upper bound on a reply body we read from a witness (signature lines only; ML-DSA ones are ~3.3 kB). */
export const MAX_WITNESS_REPLY_BYTES = 64 * 1024;
/** §add-checkpoint: the Content-Type of a 409 reply. */
export const TLOG_SIZE_CONTENT_TYPE = 'text/x.tlog.size';

export interface AddCheckpointRequest {
  /** The size of the checkpoint the witness last cosigned for this log (0: none). */
  readonly oldSize: number;
  /** RFC 6962 consistency proof from oldSize to the checkpoint's size (empty when oldSize is 0 or equal). */
  readonly proof: readonly Uint8Array[];
  /** The signed checkpoint note, as the log publishes it. */
  readonly checkpoint: string;
}

const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;

function parseSize(text: string, what: string, code: 'MALFORMED_REQUEST' | 'MALFORMED_RESPONSE'): number {
  if (!DECIMAL.test(text)) throw new WitnessError(code, `${what} is not a canonical decimal`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new WitnessError(code, `${what} exceeds 2^53 - 1`);
  return n;
}

export function formatAddCheckpointRequest(req: AddCheckpointRequest): string {
  if (!Number.isSafeInteger(req.oldSize) || req.oldSize < 0)
    throw new WitnessError('MALFORMED_REQUEST', 'old size must be a non-negative safe integer');
  if (req.proof.length > MAX_PROOF_LINES)
    throw new WitnessError('MALFORMED_REQUEST', `more than ${MAX_PROOF_LINES} consistency proof lines`);
  if (req.proof.some((h) => h.length !== 32))
    throw new WitnessError('MALFORMED_REQUEST', 'consistency proof hashes must be 32 bytes');
  if (req.oldSize === 0 && req.proof.length > 0)
    throw new WitnessError('MALFORMED_REQUEST', 'a proof from old size 0 must be empty');
  return `old ${req.oldSize}\n${req.proof.map((h) => `${toBase64(h)}\n`).join('')}\n${req.checkpoint}`;
}

/**
 * Parses a request body. Checks the framing only; the witness then checks
 * the note's signatures and the proof (`decideAddCheckpoint`). The note is
 * syntax-checked (parseNote) so a 400 is given for garbage, not a 403.
 */
export function parseAddCheckpointRequest(body: string | Uint8Array): AddCheckpointRequest {
  const size = typeof body === 'string' ? utf8(body).length : body.length;
  if (size > MAX_ADD_CHECKPOINT_BYTES) throw new WitnessError('MALFORMED_REQUEST', 'request body too large');
  let text: string;
  try {
    text = typeof body === 'string' ? body : new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch (cause) {
    throw new WitnessError('MALFORMED_REQUEST', 'request body is not UTF-8', { cause });
  }
  const blank = text.indexOf('\n\n');
  if (blank < 0) throw new WitnessError('MALFORMED_REQUEST', 'no blank line before the checkpoint');
  const head = text.slice(0, blank).split('\n');
  const checkpoint = text.slice(blank + 2);
  const oldLine = head[0] ?? '';
  if (!oldLine.startsWith('old '))
    throw new WitnessError('MALFORMED_REQUEST', 'first line is not "old <size>"');
  const oldSize = parseSize(oldLine.slice(4), 'old size', 'MALFORMED_REQUEST');
  const proofLines = head.slice(1);
  if (proofLines.length > MAX_PROOF_LINES)
    throw new WitnessError('MALFORMED_REQUEST', `more than ${MAX_PROOF_LINES} consistency proof lines`);
  const proof = proofLines.map((l, i) => {
    let h: Uint8Array;
    try {
      h = fromBase64(l);
    } catch (cause) {
      throw new WitnessError('MALFORMED_REQUEST', `proof line ${i + 1} is not base64`, { cause });
    }
    if (h.length !== 32) throw new WitnessError('MALFORMED_REQUEST', `proof line ${i + 1} is not 32 bytes`);
    return h;
  });
  try {
    parseNote(checkpoint);
  } catch (cause) {
    if (cause instanceof NoteError)
      throw new WitnessError('MALFORMED_REQUEST', `checkpoint is not a signed note (${cause.code})`, {
        cause,
      });
    throw cause;
  }
  return { oldSize, proof, checkpoint };
}

/** The 409 body: the witness's latest cosigned size, decimal, newline. */
export function formatConflictBody(size: number): string {
  return `${size}\n`;
}

/** Parses a 409 body (`<size>\n`); MALFORMED_RESPONSE otherwise. */
export function parseConflictBody(body: string): number {
  if (!body.endsWith('\n') || body.indexOf('\n') !== body.length - 1)
    throw new WitnessError('MALFORMED_RESPONSE', '409 body is not one newline-terminated line');
  return parseSize(body.slice(0, -1), '409 size', 'MALFORMED_RESPONSE');
}

/** A 200 body: one signature line per cosignature, each newline-terminated. */
export function formatCosignatureResponse(lines: readonly string[]): string {
  return lines.map((l) => `${l}\n`).join('');
}

/**
 * Parses a 200 body into note signatures (§add-checkpoint: "a sequence of
 * one or more note signature lines"), by appending it to `noteText` and
 * parsing the result as a note — the spec's own suggestion — so exactly the
 * note parser's rules apply. Which lines are from which witness is decided
 * by the caller (by name and key ID), and unknown ones are ignored there.
 */
export function parseCosignatureResponse(noteText: string, body: string): NoteSignature[] {
  if (utf8(body).length > MAX_WITNESS_REPLY_BYTES)
    throw new WitnessError('MALFORMED_RESPONSE', 'reply too large');
  if (body.length === 0 || !body.endsWith('\n'))
    throw new WitnessError('MALFORMED_RESPONSE', 'reply is not newline-terminated signature lines');
  if (body.includes('\n\n')) throw new WitnessError('MALFORMED_RESPONSE', 'reply holds an empty line');
  try {
    return [...parseNote(`${noteText}\n${body}`).signatures];
  } catch (cause) {
    if (cause instanceof NoteError)
      throw new WitnessError('MALFORMED_RESPONSE', `reply is not note signature lines (${cause.code})`, {
        cause,
      });
    throw cause;
  }
}
