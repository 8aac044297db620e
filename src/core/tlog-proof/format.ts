/**
 * The C2SP tlog-proof text format (https://c2sp.org/tlog-proof, version
 * `c2sp.org/tlog-proof@v1`, C2SP main as fetched 2026-12-03): an offline proof
 * that an entry is in a transparency log, observed by witnesses.
 *
 *   c2sp.org/tlog-proof@v1
 *   extra <base64>                  optional: opaque, unauthenticated extra data
 *   index <decimal, no leading 0>
 *   <base64 hash>                   zero or more: RFC 6962 inclusion path, leaf's sibling first
 *   <empty line>
 *   <signed checkpoint, verbatim>   with the witnesses' cosignature lines
 *
 * anchorlog puts the record's canonical bytes in `extra` (the spec's "data
 * necessary to reconstruct the record hash"): the leaf hash is
 * SHA-256(0x00 ‖ record), so the record is authenticated by the inclusion
 * proof, never by being in the file.
 *
 * The parser is strict, so every proof has exactly one spelling and
 * `formatTlogProof(parseTlogProof(b))` is `b`: canonical base64 (the core's
 * strict decoder), no leading zeros, `\n` line ends only, 32-byte hashes.
 */
import { EncodingError, fromBase64, fromUtf8, toBase64 } from '../bytes.ts';
import { parseNote } from '../note/signed-note.ts';
import { MAX_NOTE_BYTES } from '../note/text.ts';
import { MAX_RECORD_BYTES } from '../record.ts';
import { TlogProofError } from './errors.ts';

export const TLOG_PROOF_HEADER = 'c2sp.org/tlog-proof@v1';

/** The recommended file extension (tlog-proof §Format: "SHOULD"). */
export const TLOG_PROOF_EXTENSION = '.tlog-proof';

/** An inclusion path in a tree of at most 2^63 leaves has at most 63 hashes. */
export const MAX_TLOG_PROOF_HASHES = 63;

/** Header, an `extra` line holding a record, 63 hashes, and a checkpoint at the note limit. */
export const MAX_TLOG_PROOF_BYTES =
  TLOG_PROOF_HEADER.length +
  1 +
  7 +
  Math.ceil((MAX_RECORD_BYTES * 4) / 3) +
  4 +
  27 +
  64 * 45 +
  MAX_NOTE_BYTES;

export interface TlogProof {
  /** The `extra` line's bytes; anchorlog: the record's canonical bytes. Absent: no `extra` line. */
  readonly extra?: Uint8Array;
  /** 0-based index of the entry. */
  readonly index: number;
  /** The inclusion path, 32 bytes each, leaf's sibling first (RFC 6962 §2.1.1). */
  readonly proof: readonly Uint8Array[];
  /** The signed checkpoint note, verbatim (signature and cosignature lines included). */
  readonly checkpoint: string;
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;
const bad = (line: number, msg: string): never => {
  throw new TlogProofError('MALFORMED_TLOG_PROOF', `line ${line}: ${msg}`);
};

function base64Of(text: string, line: number, what: string): Uint8Array {
  try {
    return fromBase64(text);
  } catch (e) {
    if (e instanceof EncodingError) return bad(line, `${what} is not canonical base64`);
    throw e;
  }
}

/**
 * Parses a tlog-proof file. Throws TlogProofError (NOT_TLOG_PROOF,
 * MALFORMED_TLOG_PROOF, TLOG_PROOF_TOO_LARGE) or, for a checkpoint that is
 * not a signed note, the NoteError of its parser. Checks shapes only: nothing
 * in the result is authenticated until verifyTlogProof accepts it.
 */
export function parseTlogProof(input: Uint8Array): TlogProof {
  if (input.length > MAX_TLOG_PROOF_BYTES)
    throw new TlogProofError(
      'TLOG_PROOF_TOO_LARGE',
      `${input.length} bytes; a tlog-proof is at most ${MAX_TLOG_PROOF_BYTES}`,
    );
  let text: string;
  try {
    text = fromUtf8(input);
  } catch {
    // Header first: a binary file (a tar bundle) is "not a tlog-proof", not "bad UTF-8".
    if (!startsWithHeader(input)) throw notTlogProof();
    throw new TlogProofError('MALFORMED_TLOG_PROOF', 'not valid UTF-8');
  }
  const lines = text.split('\n');
  if (lines[0] !== TLOG_PROOF_HEADER) throw notTlogProof();
  let i = 1;
  const at = (): string => {
    const l = lines[i];
    return l === undefined ? bad(i + 1, 'the file ends early') : l;
  };
  let extra: Uint8Array | undefined;
  if (at().startsWith('extra ')) {
    extra = base64Of(at().slice('extra '.length), i + 1, 'the extra data');
    i++;
  }
  const indexLine = at();
  if (!indexLine.startsWith('index ')) bad(i + 1, 'expected "index <N>"');
  const digits = indexLine.slice('index '.length);
  if (!DECIMAL.test(digits)) bad(i + 1, 'the index is not a decimal without leading zeros');
  const index = Number(digits);
  if (!Number.isSafeInteger(index)) bad(i + 1, 'the index is beyond 2^53 - 1');
  i++;
  const proof: Uint8Array[] = [];
  while (at() !== '') {
    if (proof.length === MAX_TLOG_PROOF_HASHES)
      throw new TlogProofError(
        'TLOG_PROOF_TOO_LARGE',
        `more than ${MAX_TLOG_PROOF_HASHES} inclusion proof hashes`,
      );
    const h = base64Of(at(), i + 1, 'a proof hash');
    if (h.length !== 32) bad(i + 1, `a proof hash is ${h.length} bytes, not 32`);
    proof.push(h);
    i++;
  }
  i++;
  // The rest is the checkpoint: a signed note ends with "\n", so the split left a final "".
  const checkpoint = lines.slice(i).join('\n');
  if (checkpoint === '') bad(i + 1, 'no checkpoint after the blank line');
  parseNote(checkpoint);
  return { ...(extra !== undefined ? { extra } : {}), index, proof, checkpoint };
}

/** The file text of `p`; the inverse of parseTlogProof. */
export function formatTlogProof(p: TlogProof): string {
  const lines = [TLOG_PROOF_HEADER];
  if (p.extra !== undefined) lines.push(`extra ${toBase64(p.extra)}`);
  lines.push(`index ${p.index}`);
  for (const h of p.proof) lines.push(toBase64(h));
  return `${lines.join('\n')}\n\n${p.checkpoint}`;
}

const HEADER_BYTES = new TextEncoder().encode(`${TLOG_PROOF_HEADER}\n`);

/** True iff `prefix` (a file's first bytes) starts with the tlog-proof header line. */
export function startsWithHeader(prefix: Uint8Array): boolean {
  if (prefix.length < HEADER_BYTES.length) return false;
  return HEADER_BYTES.every((b, k) => prefix[k] === b);
}

const notTlogProof = () =>
  new TlogProofError('NOT_TLOG_PROOF', `the first line is not ${JSON.stringify(TLOG_PROOF_HEADER)}`);
