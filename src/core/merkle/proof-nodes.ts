/**
 * Which stored nodes make up an inclusion or consistency proof, so a server can
 * build proofs by fetching O(log n) perfect-subtree hashes (e.g. from tiles)
 * instead of reading the log. Same approach as transparency-dev/merkle `proof`:
 * a proof is a list of perfect nodes, except that at most one proof element is an
 * *ephemeral* node — the root of the ragged right edge, which is not a perfect
 * subtree and so is not stored anywhere. It is recomputed from the perfect nodes
 * ids[begin, end) that cover it (see `rehash`).
 *
 * Proof element order is RFC 9162 §2.1.3.1 / §2.1.4.1 order (bottom up).
 */
import { MerkleError } from './errors.ts';
import { HASH_SIZE, hashChildren } from './hasher.ts';
import { coverage, type NodeId, rangeNodes } from './node-id.ts';
import { assertSafeUint, bitLen, isPowerOfTwo, shr, trailingZeros, xor } from './numbers.ts';

export interface ProofNodes {
  /** Perfect nodes to fetch, in proof order (the ephemeral node's parts expanded in place). */
  readonly ids: NodeId[];
  /** ids[begin, end) are hashed together, lower levels first, into the ephemeral node (empty if begin === end). */
  readonly begin: number;
  readonly end: number;
}

/** A source of perfect-subtree hashes: node (level, index), 32 bytes. */
export type NodeOracle = (level: number, index: number) => Uint8Array | Promise<Uint8Array>;
export type SyncNodeOracle = (level: number, index: number) => Uint8Array;

/**
 * Nodes proving that perfect node (level, index) is in the tree of the given size;
 * the first id is the node itself (callers skip it). Requires the node to be
 * complete within size.
 */
function nodesFor(index: number, level: number, size: number): { ids: NodeId[]; begin: number; end: number } {
  // The fork is where the path from the root to (level, index) leaves the path to
  // the right edge (leaf `size`); its sibling is the (possibly) ephemeral node.
  const inner = bitLen(xor(index, shr(size, level))) - 1;
  const forkLevel = level + inner;
  const fork: NodeId = { level: forkLevel, index: shr(index, inner) };
  const [forkBegin, forkEnd] = coverage(fork);

  const ids: NodeId[] = [{ level, index }];
  // Siblings on the path from (level, index) up to the fork.
  let idx = index;
  for (let l = level; l < forkLevel; l++) {
    ids.push({ level: l, index: idx % 2 === 0 ? idx + 1 : idx - 1 });
    idx = Math.floor(idx / 2);
  }
  // Right of the fork: the nodes that make up the ephemeral sibling, lower levels first.
  const begin = ids.length;
  const right = rangeNodes(forkEnd, size).reverse();
  ids.push(...right);
  const end = ids.length;
  // Left of the fork: the complete subtrees before it, lower levels first (they are
  // siblings of the fork's ancestors).
  ids.push(...rangeNodes(0, forkBegin).reverse());
  // A single right node is a perfect node in its own right: nothing to rehash.
  return end - begin > 1 ? { ids, begin, end } : { ids, begin: 0, end: 0 };
}

function skipFirst(p: { ids: NodeId[]; begin: number; end: number }): ProofNodes {
  const ids = p.ids.slice(1);
  return p.begin < p.end ? { ids, begin: p.begin - 1, end: p.end - 1 } : { ids, begin: 0, end: 0 };
}

/** Nodes of the inclusion proof of leaf `index` in a tree of `size` (RFC 9162 §2.1.3.1). */
export function inclusionNodes(index: number, size: number): ProofNodes {
  assertSafeUint(size, 'tree size', 'SIZE_OUT_OF_RANGE');
  assertSafeUint(index, 'leaf index', 'INDEX_OUT_OF_RANGE');
  if (index >= size)
    throw new MerkleError('INDEX_OUT_OF_RANGE', `index ${index} not below tree size ${size}`);
  return skipFirst(nodesFor(index, 0, size));
}

/**
 * Nodes of the consistency proof from size1 to size2 (RFC 9162 §2.1.4.1).
 * Requires 0 < size1 ≤ size2; equal sizes give an empty proof.
 */
export function consistencyNodes(size1: number, size2: number): ProofNodes {
  assertSafeUint(size1, 'size1', 'SIZE_OUT_OF_RANGE');
  assertSafeUint(size2, 'size2', 'SIZE_OUT_OF_RANGE');
  if (size1 === 0)
    throw new MerkleError('SIZE_OUT_OF_RANGE', 'consistency proof from an empty tree is meaningless');
  if (size1 > size2) throw new MerkleError('SIZE_OUT_OF_RANGE', `size1 ${size1} > size2 ${size2}`);
  if (size1 === size2) return { ids: [], begin: 0, end: 0 };
  // The last perfect subtree of [0, size1) — prove its inclusion in size2. When
  // size1 is a power of two that node is the old root, which the verifier already
  // has, so it is left out.
  const level = trailingZeros(size1);
  const p = nodesFor(shr(size1 - 1, level), level, size2);
  return isPowerOfTwo(size1) ? skipFirst(p) : p;
}

/**
 * Turns the hashes of `nodes.ids` into the proof: hashes[begin, end) are folded,
 * lowest level first, into the single ephemeral hash. Does not modify `hashes`.
 */
export function rehash(nodes: ProofNodes, hashes: readonly Uint8Array[]): Uint8Array[] {
  if (hashes.length !== nodes.ids.length) {
    throw new MerkleError('BAD_ARGUMENT', `got ${hashes.length} hashes for ${nodes.ids.length} nodes`);
  }
  for (const h of hashes) {
    if (h.length !== HASH_SIZE) throw new MerkleError('BAD_HASH_SIZE', 'node hash is not 32 bytes');
  }
  const out: Uint8Array[] = [];
  for (let i = 0; i < hashes.length; i++) {
    if (i === nodes.begin && nodes.end - nodes.begin > 1) {
      let h = hashes[i] as Uint8Array;
      for (i++; i < nodes.end; i++) h = hashChildren(hashes[i] as Uint8Array, h);
      i--;
      out.push(h);
    } else {
      out.push(hashes[i] as Uint8Array);
    }
  }
  return out;
}

/** Inclusion proof built from a node store (tiles, memory). Fetches all nodes concurrently. */
export async function inclusionProofFromOracle(
  index: number,
  size: number,
  getNode: NodeOracle,
): Promise<Uint8Array[]> {
  const nodes = inclusionNodes(index, size);
  return rehash(nodes, await Promise.all(nodes.ids.map((id) => getNode(id.level, id.index))));
}

/** Consistency proof built from a node store. */
export async function consistencyProofFromOracle(
  size1: number,
  size2: number,
  getNode: NodeOracle,
): Promise<Uint8Array[]> {
  const nodes = consistencyNodes(size1, size2);
  return rehash(nodes, await Promise.all(nodes.ids.map((id) => getNode(id.level, id.index))));
}

export function inclusionProofFromSyncOracle(
  index: number,
  size: number,
  getNode: SyncNodeOracle,
): Uint8Array[] {
  const nodes = inclusionNodes(index, size);
  return rehash(
    nodes,
    nodes.ids.map((id) => getNode(id.level, id.index)),
  );
}

export function consistencyProofFromSyncOracle(
  size1: number,
  size2: number,
  getNode: SyncNodeOracle,
): Uint8Array[] {
  const nodes = consistencyNodes(size1, size2);
  return rehash(
    nodes,
    nodes.ids.map((id) => getNode(id.level, id.index)),
  );
}

/** A sync oracle over `perfectLevels(leafHashes)` that refuses nodes that do not exist. */
export function levelsOracle(levels: readonly (readonly Uint8Array[])[]): SyncNodeOracle {
  return (level, index) => {
    const h = levels[level]?.[index];
    if (h === undefined) throw new MerkleError('NODE_OUT_OF_RANGE', `no node (${level}, ${index})`);
    return h;
  };
}
