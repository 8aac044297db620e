/**
 * Merkle Tree Hash over a list of leaf hashes — RFC 9162 §2.1.1:
 *   MTH({}) = SHA-256(), MTH({d0}) = leaf hash, MTH(D[n]) = HASH(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n]))
 * with k the largest power of two < n.
 *
 * Computed level by level, promoting an unpaired last node unchanged to the next
 * level. That builds exactly the RFC tree: the left subtrees are perfect, so the
 * only unpaired node at any level is the root of the ragged right edge.
 */
import { emptyRoot, hashChildren } from './hasher.ts';

/** MTH of leafHashes[begin, end). Inputs are trusted 32-byte hashes. */
export function rootOfRange(leafHashes: readonly Uint8Array[], begin: number, end: number): Uint8Array {
  if (end <= begin) return emptyRoot();
  if (end - begin === 1) return (leafHashes[begin] as Uint8Array).slice();
  let level: Uint8Array[] = [];
  for (let i = begin; i + 1 < end; i += 2) {
    level.push(hashChildren(leafHashes[i] as Uint8Array, leafHashes[i + 1] as Uint8Array));
  }
  if ((end - begin) % 2 === 1) level.push(leafHashes[end - 1] as Uint8Array);
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) {
      next.push(hashChildren(level[i] as Uint8Array, level[i + 1] as Uint8Array));
    }
    if (level.length % 2 === 1) next.push(level[level.length - 1] as Uint8Array);
    level = next;
  }
  return (level[0] as Uint8Array).slice();
}

/** MTH of all the leaf hashes. */
export function rootOf(leafHashes: readonly Uint8Array[]): Uint8Array {
  return rootOfRange(leafHashes, 0, leafHashes.length);
}

/**
 * Every perfect-subtree node of the tree over `leafHashes`: levels[l][i] is node
 * (l, i). About n node hashes in total. A simple in-memory node store for tests,
 * bundles and the benchmark; serve it through `levelsOracle`.
 */
export function perfectLevels(leafHashes: readonly Uint8Array[]): Uint8Array[][] {
  const levels: Uint8Array[][] = [leafHashes.slice()];
  let cur = levels[0] as Uint8Array[];
  while (cur.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < cur.length; i += 2) {
      next.push(hashChildren(cur[i] as Uint8Array, cur[i + 1] as Uint8Array));
    }
    levels.push(next);
    cur = next;
  }
  return levels;
}
