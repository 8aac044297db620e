/**
 * Verifying a class answer (docs/bundle.md §Class answers): the records of
 * one class with receivedAt in [from, to), proved complete against one
 * signed checkpoint of size N whose extension lines commit the class log
 * (./commitment.ts). Pure; runs in the CLI and in a browser.
 *
 * What is proved, with S the class-log size, and class positions lo ≤ … < hi
 * carried (the answer plus at most one boundary entry on each side):
 *  1. every carried entry is a record included in the main tree of size N at
 *     its index (RFC 9162 inclusion), belongs to the class, and has index ≥
 *     the class's fromSize; main indexes strictly increase with position;
 *  2. the carried entries are exactly class positions lo … hi−1: `left` (the
 *     compact range of [0, lo)) extended by their class leaves gives the root
 *     of the class tree of size hi, and `consistency` proves it a prefix of
 *     the signed class root of size S (equality when hi = S);
 *  3. the boundaries close the range: position lo−1 … is `before`, with
 *     receivedAt < from; or lo = 0 and either the class was declared at size
 *     0, or `startWitness` — any main record at index ≥ fromSize − 1 with
 *     receivedAt < from (receivedAt never decreases along the main log, so no
 *     record before fromSize is in range; without it the class was declared
 *     inside the range and the answer is not complete); and position hi is `after`, with
 *     receivedAt ≥ to; or hi = S and `endWitness` — a main record of the tree
 *     with receivedAt ≥ to (so no record appended after N is in range).
 *     Without an end witness the answer is complete only up to checkpoint N
 *     (reported, not proved);
 *  4. every answer entry (between the boundaries) has from ≤ receivedAt < to.
 * Under SHA-256 collision resistance, (1)–(4) and an honest class log (which
 * `anchorlog monitor` checks, ./monitor.ts) mean no record of the class in
 * the range is missing and none of another class is present.
 *
 * Inputs are attacker-controlled (a bundle): every check throws a ClassError.
 */
import { bytesEqual } from '../bytes.ts';
import { CompactRange } from '../merkle/compact-range.ts';
import { MerkleError } from '../merkle/errors.ts';
import { verifyConsistency, verifyInclusion } from '../merkle/verify.ts';
import { decodeRecord, type LogRecord, leafHash } from '../record.ts';
import type { ClassCommitment } from './commitment.ts';
import { classMatches } from './definition.ts';
import { ClassError } from './errors.ts';
import { classLeafHash } from './leaf.ts';

/** A main-log record with its inclusion proof under the checkpoint. */
export interface ProvedRecord {
  /** Canonical record bytes (the main-log leaf data). */
  readonly record: Uint8Array;
  readonly inclusion: readonly Uint8Array[];
}

/** A record carried as a class-log entry at `position`. */
export interface ClassEntry extends ProvedRecord {
  readonly position: number;
}

export interface ClassAnswer {
  /** The signed commitment of the class (from the verified checkpoint's lines). */
  readonly commitment: ClassCommitment;
  /** Main tree size and root of the signed checkpoint. */
  readonly treeSize: number;
  readonly treeRoot: Uint8Array;
  readonly fromTime: string;
  readonly toTime: string;
  /** Compact range of class positions [0, lo), lo = first carried position. */
  readonly left: readonly Uint8Array[];
  /** RFC 9162 consistency proof of the class tree from size hi to S. */
  readonly consistency: readonly Uint8Array[];
  readonly before: ClassEntry | null;
  readonly entries: readonly ClassEntry[];
  readonly after: ClassEntry | null;
  readonly startWitness: ProvedRecord | null;
  readonly endWitness: ProvedRecord | null;
}

export interface ClassAnswerResult {
  /**
   * True when both ends are proved. False (reported, not an error) when the
   * class was declared inside the range (records before its declaration are
   * in no class log) or the range runs past the checkpoint.
   */
  readonly complete: boolean;
  readonly start: 'before-entry' | 'log-start' | 'start-witness' | 'declared-in-range';
  readonly end: 'after-entry' | 'end-witness' | 'checkpoint-end';
  readonly records: readonly LogRecord[];
}

const fail = (
  code: 'CLASS_OMISSION' | 'CLASS_SMUGGLED' | 'CLASS_PROOF_INVALID',
  msg: string,
  cause?: unknown,
) => new ClassError(code, msg, cause === undefined ? undefined : { cause });

/** Decodes a record and checks its inclusion at its own index in the tree (N, root). */
function included(p: ProvedRecord, a: ClassAnswer, what: string): { rec: LogRecord; hash: Uint8Array } {
  let rec: LogRecord;
  try {
    rec = decodeRecord(p.record);
  } catch (cause) {
    throw fail('CLASS_PROOF_INVALID', `${what}: not a canonical record`, cause);
  }
  const hash = leafHash(p.record);
  try {
    verifyInclusion(hash, rec.index, a.treeSize, p.inclusion, a.treeRoot);
  } catch (cause) {
    if (cause instanceof MerkleError)
      throw fail(
        'CLASS_PROOF_INVALID',
        `${what}: record ${rec.index} is not in the tree of size ${a.treeSize}`,
        cause,
      );
    throw cause;
  }
  return { rec, hash };
}

export function verifyClassAnswer(a: ClassAnswer): ClassAnswerResult {
  const c = a.commitment;
  const { fromTime: from, toTime: to } = a;
  if (!(from <= to)) throw fail('CLASS_PROOF_INVALID', 'the time range is reversed');
  const carried = [...(a.before ? [a.before] : []), ...a.entries, ...(a.after ? [a.after] : [])];
  const lo = a.before ? a.before.position : (a.entries[0]?.position ?? a.after?.position ?? c.size);
  if (!Number.isSafeInteger(lo) || lo < 0 || lo > c.size)
    throw fail('CLASS_PROOF_INVALID', `class position ${lo} is outside the class log of size ${c.size}`);

  // (1) each carried entry: in the main tree, of the class, in order, at the position it says.
  let lastIndex = -1;
  const leaves: Uint8Array[] = [];
  const records: LogRecord[] = [];
  carried.forEach((e, k) => {
    const what = `class entry at position ${e.position}`;
    if (e.position !== lo + k)
      throw fail('CLASS_OMISSION', `${what}: expected position ${lo + k} (a class record is missing)`);
    const { rec, hash } = included(e, a, what);
    if (!classMatches(c.def, rec.event))
      throw fail(
        'CLASS_SMUGGLED',
        `${what}: record ${rec.index} (${rec.event.action}) is not of class ${c.def.name}`,
      );
    if (rec.index < c.fromSize || rec.index <= lastIndex)
      throw fail('CLASS_PROOF_INVALID', `${what}: record index ${rec.index} out of order`);
    lastIndex = rec.index;
    leaves.push(classLeafHash({ index: rec.index, leafHash: hash }));
    records.push(rec);
  });
  const hi = lo + carried.length;
  if (hi > c.size) throw fail('CLASS_PROOF_INVALID', `entries run past the class log of size ${c.size}`);
  // Without a boundary entry, the carried entries must reach the class log's end.
  if (!a.before && lo !== 0)
    throw fail('CLASS_OMISSION', `the answer starts at class position ${lo} without the entry before it`);
  if (!a.after && hi !== c.size)
    throw fail(
      'CLASS_OMISSION',
      `the answer ends at class position ${hi} of ${c.size} without the entry after it`,
    );

  // (3) the ends (before the range proof: a boundary inside the range is
  // an omission whatever the proof says).
  let start: ClassAnswerResult['start'] = a.before ? 'before-entry' : 'log-start';
  const inner = records.slice(a.before ? 1 : 0, a.after ? records.length - 1 : records.length);
  if (a.before) {
    if (!((records[0] as LogRecord).receivedAt < from))
      throw fail(
        'CLASS_OMISSION',
        'the entry before the answer is inside the range: the answer starts too late',
      );
  } else if (c.fromSize > 0) {
    if (a.startWitness === null) start = 'declared-in-range';
    else {
      const { rec } = included(a.startWitness, a, 'start witness');
      if (!(rec.index >= c.fromSize - 1 && rec.receivedAt < from))
        throw fail(
          'CLASS_OMISSION',
          'the start witness does not show the range starts after the class was declared',
        );
      start = 'start-witness';
    }
  }
  let end: ClassAnswerResult['end'];
  if (a.after) {
    if (!((records[records.length - 1] as LogRecord).receivedAt >= to))
      throw fail(
        'CLASS_OMISSION',
        'the entry after the answer is inside the range: the answer ends too early',
      );
    end = 'after-entry';
  } else if (hi !== c.size) {
    throw fail(
      'CLASS_OMISSION',
      `the answer ends at class position ${hi} of ${c.size} without the entry after it`,
    );
  } else if (a.endWitness !== null) {
    const { rec } = included(a.endWitness, a, 'end witness');
    if (!(rec.receivedAt >= to)) throw fail('CLASS_OMISSION', 'the end witness is inside the range');
    end = 'end-witness';
  } else end = 'checkpoint-end';

  // (2) exactly positions lo … hi−1 of the signed class tree.
  try {
    const range = CompactRange.fromParts(lo, [...a.left]);
    range.appendMany(leaves);
    const root = range.root();
    if (hi === c.size) {
      if (a.consistency.length !== 0 || !bytesEqual(root, c.rootHash))
        throw fail('CLASS_PROOF_INVALID', 'the class entries do not give the signed class root');
    } else if (hi === 0) {
      throw fail(
        'CLASS_PROOF_INVALID',
        'an empty answer inside a non-empty class log needs a boundary entry',
      );
    } else verifyConsistency(hi, c.size, a.consistency, root, c.rootHash);
  } catch (cause) {
    if (cause instanceof ClassError) throw cause;
    if (cause instanceof MerkleError)
      throw fail('CLASS_PROOF_INVALID', `the class range proof fails: ${cause.message}`, cause);
    throw cause;
  }

  // (4) the answer itself lies in the range.
  for (const r of inner)
    if (!(from <= r.receivedAt && r.receivedAt < to))
      throw fail(
        'CLASS_SMUGGLED',
        `record ${r.index} (received ${r.receivedAt}) is outside [${from}, ${to})`,
      );
  return { complete: start !== 'declared-in-range' && end !== 'checkpoint-end', start, end, records: inner };
}
