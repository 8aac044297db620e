/**
 * Node coordinates in the RFC 6962 tree. Node (level, index) is the root of the
 * perfect subtree over leaves [index·2^level, (index+1)·2^level). Only perfect
 * subtrees have stable hashes (they never change as the log grows), which is why
 * storage (tiles) and proofs are expressed in them.
 */
import { shl, trailingZeros } from './numbers.ts';

export interface NodeId {
  readonly level: number;
  readonly index: number;
}

/** First leaf covered by the node, and one past the last. */
export function coverage(id: NodeId): [begin: number, end: number] {
  const begin = shl(id.index, id.level);
  return [begin, begin + 2 ** id.level];
}

/**
 * The unique decomposition of [begin, end) into maximal aligned perfect subtrees
 * (the "compact range"), left to right — which is also from higher to lower levels
 * on the right border. Requires 0 ≤ begin ≤ end.
 */
export function rangeNodes(begin: number, end: number, out: NodeId[] = []): NodeId[] {
  let pos = begin;
  while (pos < end) {
    // Largest aligned block starting at pos that fits: limited by pos's alignment
    // and by the remaining length.
    let level = pos === 0 ? 53 : trailingZeros(pos);
    while (2 ** level > end - pos) level--;
    out.push({ level, index: pos / 2 ** level });
    pos += 2 ** level;
  }
  return out;
}

/** How many nodes rangeNodes(begin, end) returns. */
export function rangeSize(begin: number, end: number): number {
  return rangeNodes(begin, end).length;
}
