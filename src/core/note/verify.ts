/**
 * Signature verification of notes and checkpoints.
 * https://c2sp.org/signed-note#signatures
 *
 * Rules, from the spec:
 *  - a signature is matched to a key by (key name, key ID) — never by the
 *    note's origin line (Rekor v1 signs origin "rekor.sigstore.dev - <tree>"
 *    as key "rekor.sigstore.dev");
 *  - signatures from unknown keys are ignored, even if they share the name or
 *    the ID (but not both) with a known key: that is how key rotation and
 *    witness cosignatures coexist with older verifiers;
 *  - a signature from a known key that fails to verify rejects the whole note
 *    (the spec says SHOULD; we do, since it means corruption or forgery);
 *  - if no signature from a known key verifies, the note is rejected.
 */
import { bytesEqual, toHex, utf8 } from '../bytes.ts';
import { type Checkpoint, parseCheckpoint } from './checkpoint.ts';
import { NoteError } from './errors.ts';
import { type NoteSignature, parseNote } from './signed-note.ts';
import type { NoteVerifier } from './verifiers.ts';
import { sameVerifier } from './vkey.ts';

export interface VerifiedNote {
  /** The note text, now authenticated by every key in `verifiedBy`. */
  readonly text: string;
  /** Known keys whose signature verified, each once, in signature-line order. */
  readonly verifiedBy: readonly NoteVerifier[];
  /** Signature lines from keys we do not know (name and ID not both matching), ignored as the spec requires. */
  readonly ignored: readonly NoteSignature[];
}

export interface VerifyNoteOptions {
  /**
   * Keys that MUST all have signed the note (e.g. the log key plus a witness
   * quorum). They count as known keys even if absent from `verifiers`.
   * Default: any one known key suffices.
   */
  readonly required?: readonly NoteVerifier[];
}

const idOf = (name: string, keyId: Uint8Array): string => `${name}+${toHex(keyId)}`;

function indexVerifiers(verifiers: readonly NoteVerifier[]): Map<string, NoteVerifier> {
  const byId = new Map<string, NoteVerifier>();
  for (const v of verifiers) {
    const id = idOf(v.name, v.keyId);
    const prev = byId.get(id);
    // Two different keys under one (name, ID) would make every signature ambiguous.
    if (prev && !sameVerifier(prev, v))
      throw new NoteError('DUPLICATE_VERIFIER', `two different keys share name and key ID ${id}`);
    byId.set(id, v);
  }
  return byId;
}

/**
 * Parses `note` and checks its signatures against the known `verifiers`.
 * Throws NoteError: a parse code for malformed input, INVALID_SIGNATURE when
 * a known key's signature is bad, NO_TRUSTED_SIGNATURE when no known key
 * signed, MISSING_REQUIRED_SIGNATURE when a required key did not.
 */
export function verifyNote(
  note: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
  opts: VerifyNoteOptions = {},
): VerifiedNote {
  const required = opts.required ?? [];
  const known = indexVerifiers([...verifiers, ...required]);
  const parsed = parseNote(note);
  const message = utf8(parsed.text);
  const verified = new Map<string, NoteVerifier>();
  const ignored: NoteSignature[] = [];
  for (const sig of parsed.signatures) {
    const id = idOf(sig.name, sig.keyId);
    const v = known.get(id);
    if (!v) {
      ignored.push(sig);
      continue;
    }
    // Repeated lines for one key are each checked: a bad duplicate is still a bad signature.
    if (!v.verify(message, sig.signature))
      throw new NoteError('INVALID_SIGNATURE', `signature by known key ${id} does not verify`);
    verified.set(id, v);
  }
  if (verified.size === 0) throw new NoteError('NO_TRUSTED_SIGNATURE', 'no signature from a known key');
  for (const r of required) {
    const id = idOf(r.name, r.keyId);
    if (!verified.has(id)) throw new NoteError('MISSING_REQUIRED_SIGNATURE', `note is not signed by ${id}`);
  }
  return { text: parsed.text, verifiedBy: [...verified.values()], ignored };
}

export interface VerifiedCheckpoint extends Checkpoint {
  readonly verifiedBy: readonly NoteVerifier[];
}

/**
 * Verifies a signed checkpoint and returns its contents. The signature is
 * checked before the text is interpreted (the spec: text MUST be ignored
 * until verified); then the origin line must equal `origin` exactly, so a
 * validly signed checkpoint of another log (or another Rekor shard) is refused.
 */
export function checkpointFromNote(
  note: string | Uint8Array,
  origin: string,
  verifiers: readonly NoteVerifier[],
  opts: VerifyNoteOptions = {},
): VerifiedCheckpoint {
  const { text, verifiedBy } = verifyNote(note, verifiers, opts);
  const cp = parseCheckpoint(text);
  if (cp.origin !== origin)
    throw new NoteError(
      'ORIGIN_MISMATCH',
      `checkpoint origin ${JSON.stringify(cp.origin)} is not the expected one`,
    );
  return { ...cp, verifiedBy };
}

export interface VerifyLogCheckpointOptions extends VerifyNoteOptions {
  /** The origin the caller expects; absent: any origin that a key named like it signed. */
  readonly origin?: string;
}

/**
 * Verifies a checkpoint of a log whose signing key is named after its origin
 * (anchorlog: the key name is the origin, docs/formats.md). Unlike
 * `checkpointFromNote`, which follows the signed-note rule that signatures
 * match keys by (name, key ID) and says nothing of the origin line, this
 * accepts the checkpoint only if a trusted key whose name IS its origin
 * signed it. That matters because one key signs every log of a deployment and
 * a 0x02 key ID (SHA-256 of the SPKI) does not depend on the name: log B's
 * checkpoint with its signature line renamed to log A's key name verifies
 * under A's vkey, so a vkey must vouch for its own origin only.
 *
 * `verifiedBy` holds only the keys named like the origin.
 */
export function verifyLogCheckpoint(
  note: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
  opts: VerifyLogCheckpointOptions = {},
): VerifiedCheckpoint {
  const { text, verifiedBy } = verifyNote(note, verifiers, opts);
  const cp = parseCheckpoint(text);
  const own = verifiedBy.filter((v) => v.name === cp.origin);
  if (own.length === 0)
    throw new NoteError(
      'KEY_NAME_MISMATCH',
      `checkpoint origin ${JSON.stringify(cp.origin)} is not the name of a trusted key that signed it`,
    );
  if (opts.origin !== undefined && cp.origin !== opts.origin)
    throw new NoteError(
      'ORIGIN_MISMATCH',
      `checkpoint origin ${JSON.stringify(cp.origin)} is not the expected ${JSON.stringify(opts.origin)}`,
    );
  return { ...cp, verifiedBy: own };
}

/** True iff `a` and `b` name the same tree head (origin, size, root). */
export function sameTreeHead(a: Checkpoint, b: Checkpoint): boolean {
  return a.origin === b.origin && a.size === b.size && bytesEqual(a.rootHash, b.rootHash);
}
