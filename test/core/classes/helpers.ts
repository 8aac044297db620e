/** Class logs built the slow, obvious way from a test log, for the class tests. */
import {
  type ClassCommitment,
  type ClassDefinition,
  type ClassLeaf,
  classLeafHash,
  classMatches,
} from '../../../src/core/classes/index.ts';
import { inclusionProof, rootOf } from '../../../src/core/merkle/index.ts';
import { decodeRecord } from '../../../src/core/record.ts';
import type { TestLog } from '../bundle/fixture.ts';

/** The class log of `def` declared at `fromSize`, at main size `size`. */
export function classLog(
  log: TestLog,
  def: ClassDefinition,
  fromSize: number,
  size: number,
): { commitment: ClassCommitment; leaves: ClassLeaf[] } {
  const leaves: ClassLeaf[] = [];
  for (let i = fromSize; i < size; i++)
    if (classMatches(def, decodeRecord(log.records[i] as Uint8Array).event))
      leaves.push({ index: i, leafHash: log.leaves[i] as Uint8Array });
  return {
    commitment: { def, fromSize, size: leaves.length, rootHash: rootOf(leaves.map(classLeafHash)) },
    leaves,
  };
}

/** The read function a prover needs: record and inclusion proof under the tree of `size`. */
export function reader(log: TestLog, size: number) {
  return async (index: number) => ({
    record: log.records[index] as Uint8Array,
    inclusion: inclusionProof(log.leaves, index, size),
  });
}
