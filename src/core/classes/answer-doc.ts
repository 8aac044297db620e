/**
 * The class answer document (docs/bundle.md §Class answers): one JSON file
 * holding a class answer under one signed, time-stamped checkpoint, and its
 * verifier. `anchorlog verify` reads it offline; pure, runs in a browser.
 *
 *   { "format": "anchorlog-class-answer", "version": 1,
 *     "logId", "class", "fromTime", "toTime",
 *     "checkpoint": "<signed note text>",
 *     "anchors": [ { "tsa", "token": b64 TimeStampResp, "chain": "<PEM>" } ],
 *     "left": [b64…], "consistency": [b64…],
 *     "before": E | null, "entries": [E…], "after": E | null,
 *     "startWitness": R | null, "endWitness": R | null }
 *   R = { "record": "<canonical JSON text>", "inclusion": [b64…] }
 *   E = R + { "position" }
 *
 * Every field is attacker-controlled: parsed strictly, then proved.
 */
import { fromBase64, fromUtf8, toBase64, utf8 } from '../bytes.ts';
import type { NoteVerifier } from '../note/verifiers.ts';
import { verifyLogCheckpoint } from '../note/verify.ts';
import { decodePemCertificates } from '../rfc3161/pem.ts';
import { verifyTimestamp } from '../rfc3161/verify.ts';
import {
  type ClassAnswer,
  type ClassAnswerResult,
  type ClassEntry,
  type ProvedRecord,
  verifyClassAnswer,
} from './answer.ts';
import { classCommitments } from './commitment.ts';
import { classText } from './definition.ts';
import { ClassError } from './errors.ts';

export const CLASS_ANSWER_FORMAT = 'anchorlog-class-answer';
/** Largest document read (a 1,000-record answer in a deep tree is ~3 MB). */
export const MAX_CLASS_ANSWER_BYTES = 64 * 1024 * 1024;

export interface ClassAnswerAnchor {
  readonly tsa: string;
  readonly token: Uint8Array;
  readonly chainPem: string;
}

export interface ClassAnswerDocument {
  readonly logId: string;
  readonly className: string;
  readonly checkpoint: string;
  readonly anchors: readonly ClassAnswerAnchor[];
  readonly answer: Omit<ClassAnswer, 'commitment' | 'treeSize' | 'treeRoot'>;
}

const rec = (r: ProvedRecord) => ({ record: fromUtf8(r.record), inclusion: r.inclusion.map(toBase64) });
const entry = (e: ClassEntry) => ({ position: e.position, ...rec(e) });

export function formatClassAnswerDocument(d: ClassAnswerDocument): Uint8Array {
  const a = d.answer;
  return utf8(
    `${JSON.stringify(
      {
        format: CLASS_ANSWER_FORMAT,
        version: 1,
        logId: d.logId,
        class: d.className,
        fromTime: a.fromTime,
        toTime: a.toTime,
        checkpoint: d.checkpoint,
        anchors: d.anchors.map((x) => ({ tsa: x.tsa, token: toBase64(x.token), chain: x.chainPem })),
        left: a.left.map(toBase64),
        consistency: a.consistency.map(toBase64),
        before: a.before && entry(a.before),
        entries: a.entries.map(entry),
        after: a.after && entry(a.after),
        startWitness: a.startWitness && rec(a.startWitness),
        endWitness: a.endWitness && rec(a.endWitness),
      },
      null,
      1,
    )}\n`,
  );
}

const bad = (why: string, cause?: unknown) =>
  new ClassError(
    'CLASS_PROOF_INVALID',
    `class answer document: ${why}`,
    cause === undefined ? undefined : { cause },
  );

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`${what} is not an object`);
  return v as Record<string, unknown>;
}
function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw bad(`${what} is not a string`);
  return v;
}
function b64s(v: unknown, what: string): Uint8Array[] {
  if (!Array.isArray(v)) throw bad(`${what} is not an array`);
  return v.map((x, i) => {
    try {
      const h = fromBase64(str(x, `${what}[${i}]`));
      if (h.length !== 32) throw bad(`${what}[${i}] is not a 32-byte hash`);
      return h;
    } catch (e) {
      throw e instanceof ClassError ? e : bad(`${what}[${i}] is not base64`, e);
    }
  });
}
function proved(v: unknown, what: string): ProvedRecord {
  const o = obj(v, what);
  return { record: utf8(str(o.record, `${what}.record`)), inclusion: b64s(o.inclusion, `${what}.inclusion`) };
}
function provedEntry(v: unknown, what: string): ClassEntry {
  const o = obj(v, what);
  if (!Number.isSafeInteger(o.position) || (o.position as number) < 0)
    throw bad(`${what}.position is not an index`);
  return { position: o.position as number, ...proved(o, what) };
}
const orNull = <T>(v: unknown, f: (v: unknown) => T): T | null => (v === null ? null : f(v));

/** Parses a document (strict about shape; the proofs are checked by verifyClassAnswerDocument). */
export function parseClassAnswerDocument(bytes: Uint8Array): ClassAnswerDocument {
  if (bytes.length > MAX_CLASS_ANSWER_BYTES) throw bad('larger than the format allows');
  let doc: Record<string, unknown>;
  try {
    doc = obj(JSON.parse(fromUtf8(bytes)), 'the document');
  } catch (e) {
    throw e instanceof ClassError ? e : bad('not JSON', e);
  }
  if (doc.format !== CLASS_ANSWER_FORMAT || doc.version !== 1)
    throw bad(`not ${CLASS_ANSWER_FORMAT} version 1`);
  if (!Array.isArray(doc.entries) || !Array.isArray(doc.anchors))
    throw bad('entries and anchors must be arrays');
  return {
    logId: str(doc.logId, 'logId'),
    className: str(doc.class, 'class'),
    checkpoint: str(doc.checkpoint, 'checkpoint'),
    anchors: doc.anchors.map((x, i) => {
      const o = obj(x, `anchors[${i}]`);
      let token: Uint8Array;
      try {
        token = fromBase64(str(o.token, `anchors[${i}].token`));
      } catch (e) {
        throw e instanceof ClassError ? e : bad(`anchors[${i}].token is not base64`, e);
      }
      return { tsa: str(o.tsa, `anchors[${i}].tsa`), token, chainPem: str(o.chain, `anchors[${i}].chain`) };
    }),
    answer: {
      fromTime: str(doc.fromTime, 'fromTime'),
      toTime: str(doc.toTime, 'toTime'),
      left: b64s(doc.left, 'left'),
      consistency: b64s(doc.consistency, 'consistency'),
      before: orNull(doc.before, (v) => provedEntry(v, 'before')),
      entries: doc.entries.map((e, i) => provedEntry(e, `entries[${i}]`)),
      after: orNull(doc.after, (v) => provedEntry(v, 'after')),
      startWitness: orNull(doc.startWitness, (v) => proved(v, 'startWitness')),
      endWitness: orNull(doc.endWitness, (v) => proved(v, 'endWitness')),
    },
  };
}

export interface ClassAnswerTrust {
  /** Pinned log keys (a key vouches only for the origin it is named after). */
  readonly logKeys: readonly NoteVerifier[];
  /** Pinned TSA roots (DER); without them the document's own chains are used (reported). */
  readonly tsaRoots?: readonly Uint8Array[];
}

export interface ClassAnswerReport extends ClassAnswerResult {
  readonly logId: string;
  readonly origin: string;
  readonly className: string;
  /** The rule in words, e.g. `access.*`. */
  readonly rule: string;
  /**
   * The version and declaration size of the class line the answer was
   * verified against: what to match with the `anchorlog.class.declared`
   * event of the `system` log (docs/classes.md §Versions).
   */
  readonly classVersion: number;
  readonly declaredAtSize: number;
  readonly fromTime: string;
  readonly toTime: string;
  readonly checkpointSize: number;
  readonly anchors: readonly { tsa: string; genTime: string }[];
  /** TSA roots were taken from the document, not pinned. */
  readonly trustedDocumentTsaRoots: boolean;
  /** "complete for class access.* over [from, to)", or why not. */
  readonly statement: string;
}

/**
 * Verifies a class answer document: the checkpoint against pinned log keys
 * (named like its origin, which must name `logId`), at least one RFC 3161
 * time-stamp over the whole checkpoint text, the class line it commits, then
 * the answer (./answer.ts). Throws NoteError, TimestampError or ClassError.
 */
export async function verifyClassAnswerDocument(
  bytes: Uint8Array,
  trust: ClassAnswerTrust,
): Promise<ClassAnswerReport> {
  const doc = parseClassAnswerDocument(bytes);
  const cp = verifyLogCheckpoint(doc.checkpoint, trust.logKeys);
  if (!cp.origin.endsWith(`/${doc.logId}`))
    throw bad(`the checkpoint's origin ${cp.origin} is not log ${doc.logId}`);
  if (doc.anchors.length === 0) throw bad('the checkpoint carries no time-stamp');
  const anchors: { tsa: string; genTime: string }[] = [];
  for (const x of doc.anchors) {
    const chain = decodePemCertificates(x.chainPem);
    const last = chain[chain.length - 1];
    const roots = trust.tsaRoots ?? (last ? [last] : []);
    const v = await verifyTimestamp(x.token, {
      expected: { data: utf8(doc.checkpoint) },
      roots,
      untrusted: chain,
      allowSha1: false,
    });
    anchors.push({ tsa: x.tsa, genTime: v.genTime });
  }
  const commitment = classCommitments(cp.extensions, cp.size).find((c) => c.def.name === doc.className);
  if (commitment === undefined)
    throw new ClassError('CLASS_PROOF_INVALID', `checkpoint ${cp.size} commits no class ${doc.className}`);
  const result = verifyClassAnswer({ ...doc.answer, commitment, treeSize: cp.size, treeRoot: cp.rootHash });
  const rule = classText(commitment.def);
  const over = `[${doc.answer.fromTime}, ${doc.answer.toTime})`;
  const statement = result.complete
    ? `complete for class ${rule} over ${over}`
    : result.start === 'declared-in-range'
      ? `NOT complete for class ${rule} over ${over}: the class was declared at tree size ${commitment.fromSize}, inside the range`
      : `NOT complete for class ${rule} over ${over}: the range runs past checkpoint ${cp.size}`;
  return {
    ...result,
    logId: doc.logId,
    origin: cp.origin,
    className: doc.className,
    rule,
    classVersion: commitment.def.version,
    declaredAtSize: commitment.fromSize,
    fromTime: doc.answer.fromTime,
    toTime: doc.answer.toTime,
    checkpointSize: cp.size,
    anchors,
    trustedDocumentTsaRoots: trust.tsaRoots === undefined,
    statement,
  };
}
