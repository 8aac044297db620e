/**
 * Building a class answer (the exporter's side of ./answer.ts), given the
 * class log's leaves and a way to read a main-log record with its inclusion
 * proof under the checkpoint. Class logs are small next to the main log (a
 * class of 1,000 records is 32 KB of leaf hashes), so the prover holds them
 * whole and builds `left` and `consistency` from them.
 */
import { CompactRange } from '../merkle/compact-range.ts';
import { consistencyProof } from '../merkle/proof-from-leaves.ts';
import { decodeRecord } from '../record.ts';
import type { ClassAnswer, ClassEntry, ProvedRecord } from './answer.ts';
import type { ClassCommitment } from './commitment.ts';
import { type ClassLeaf, classLeafHash } from './leaf.ts';

export interface ClassProverInput {
  readonly commitment: ClassCommitment;
  readonly treeSize: number;
  readonly treeRoot: Uint8Array;
  /** All leaves of the class log at the commitment's size, in position order. */
  readonly leaves: readonly ClassLeaf[];
  readonly fromTime: string;
  readonly toTime: string;
  /** A main-log record (canonical bytes) and its inclusion proof under treeSize. */
  readonly read: (index: number) => Promise<ProvedRecord>;
}

export async function proveClassAnswer(p: ClassProverInput): Promise<ClassAnswer> {
  const S = p.commitment.size;
  if (p.leaves.length !== S)
    throw new RangeError(`${p.leaves.length} class leaves for a class log of size ${S}`);
  const cache = new Map<number, ProvedRecord & { receivedAt: string }>();
  const at = async (index: number) => {
    let r = cache.get(index);
    if (r === undefined) {
      const got = await p.read(index);
      r = { ...got, receivedAt: decodeRecord(got.record).receivedAt };
      cache.set(index, r);
    }
    return r;
  };
  // First class position whose record is received at or after t (receivedAt never decreases).
  const firstAtOrAfter = async (t: string) => {
    let lo = 0;
    let hi = S;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((await at((p.leaves[mid] as ClassLeaf).index)).receivedAt < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const a = await firstAtOrAfter(p.fromTime);
  const b = Math.max(a, await firstAtOrAfter(p.toTime));
  const entry = async (position: number): Promise<ClassEntry> => {
    const r = await at((p.leaves[position] as ClassLeaf).index);
    return { position, record: r.record, inclusion: r.inclusion };
  };
  const before = a > 0 ? await entry(a - 1) : null;
  const after = b < S ? await entry(b) : null;
  const entries: ClassEntry[] = [];
  for (let k = a; k < b; k++) entries.push(await entry(k));
  const lo = before ? a - 1 : a;
  const hi = after ? b + 1 : b;
  const hashes = p.leaves.map(classLeafHash);
  let startWitness: ProvedRecord | null = null;
  if (before === null && p.commitment.fromSize > 0) {
    const w = await at(p.commitment.fromSize - 1);
    if (w.receivedAt < p.fromTime) startWitness = { record: w.record, inclusion: w.inclusion };
  }
  let endWitness: ProvedRecord | null = null;
  if (after === null && p.treeSize > 0) {
    const w = await at(p.treeSize - 1);
    if (w.receivedAt >= p.toTime) endWitness = { record: w.record, inclusion: w.inclusion };
  }
  return {
    commitment: p.commitment,
    treeSize: p.treeSize,
    treeRoot: p.treeRoot,
    fromTime: p.fromTime,
    toTime: p.toTime,
    left: CompactRange.of(hashes.slice(0, lo)).hashes(),
    consistency: hi === 0 || hi === S ? [] : consistencyProof(hashes, hi, S),
    before,
    entries,
    after,
    startWitness,
    endWitness,
  };
}
