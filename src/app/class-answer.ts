/**
 * Class answer use case (docs/bundle.md §Class answers): every record of one
 * event class with receivedAt in [from, to), proved complete under the
 * newest time-stamped checkpoint, as a class answer document
 * (src/core/classes/answer-doc.ts) that `anchorlog verify` checks offline.
 *
 * Reads only immutable objects and the anchor records: the anchored
 * checkpoint text, the class log's entry bundles (its leaves), the main
 * log's entry bundles of the records it carries, and hash tiles for their
 * inclusion proofs. Cost: the class log (40 bytes per class record) plus, per
 * carried record, one entry bundle (cached) and O(log n) tile reads.
 */
import { type ClassAnswerAnchor, formatClassAnswerDocument } from '../core/classes/answer-doc.ts';
import { classCommitments, classLogPrefix } from '../core/classes/commitment.ts';
import { decodeClassLeaf } from '../core/classes/leaf.ts';
import { proveClassAnswer } from '../core/classes/prove.ts';
import { decodeEntryBundle } from '../core/merkle/entry-bundle.ts';
import { inclusionProofFromOracle } from '../core/merkle/proof-nodes.ts';
import { tileNodeOracle } from '../core/merkle/tile-nodes.ts';
import { entryBundlePath, TILE_WIDTH, tilePath } from '../core/merkle/tile-path.ts';
import { parseCheckpoint } from '../core/note/checkpoint.ts';
import type { AnchorStore } from '../ports/anchor-store.ts';
import { type ArchiveStore, archiveKey } from '../ports/archive-store.ts';
import { AppError } from './errors.ts';

export interface ClassAnswerServiceOptions {
  readonly archive: Pick<ArchiveStore, 'get'>;
  readonly anchors: Pick<AnchorStore, 'read' | 'newestAnchoredSize'>;
}

export class ClassAnswerService {
  readonly #o: ClassAnswerServiceOptions;
  constructor(options: ClassAnswerServiceOptions) {
    this.#o = options;
  }

  /** The class answer document, or AppError NOT_FOUND (no anchored checkpoint, no such class). */
  async answer(logId: string, className: string, fromTime: string, toTime: string): Promise<Uint8Array> {
    const o = this.#o;
    if (!(fromTime <= toTime)) throw new AppError('BAD_REQUEST', 'from must not be after to');
    const size = await o.anchors.newestAnchoredSize(logId);
    if (size === undefined) throw new AppError('NOT_FOUND', `log ${logId} has no anchored checkpoint yet`);
    const at = await o.anchors.read(logId, size);
    const text = at.summary?.checkpoint;
    if (text === undefined)
      throw new AppError('NOT_FOUND', `log ${logId}: anchored checkpoint ${size} is not recorded`);
    const cp = parseCheckpoint(`${text.split('\n\n')[0]}\n`);
    const commitment = classCommitments(cp.extensions, cp.size).find((c) => c.def.name === className);
    if (commitment === undefined)
      throw new AppError('NOT_FOUND', `checkpoint ${cp.size} of log ${logId} commits no class ${className}`);
    const anchors: ClassAnswerAnchor[] = at.tsas.flatMap((t) =>
      t.status === 'granted' && t.granted
        ? [{ tsa: t.tsa, token: t.granted.token, chainPem: t.granted.chainPem }]
        : [],
    );

    const get = async (path: string) => {
      const body = await o.archive.get(archiveKey(logId, path));
      if (body === undefined) throw new AppError('INTEGRITY', `log ${logId}: archived ${path} is missing`);
      return body;
    };
    const prefix = classLogPrefix(commitment);
    const leaves = [];
    for (let n = 0; n * TILE_WIDTH < commitment.size; n++) {
      const w = Math.min(TILE_WIDTH, commitment.size - n * TILE_WIDTH);
      leaves.push(...decodeEntryBundle(await get(prefix + entryBundlePath(n, w)), w).map(decodeClassLeaf));
    }
    const bundles = new Map<number, Uint8Array[]>();
    const oracle = tileNodeOracle(cp.size, (level, index, width) => get(tilePath(level, index, width)));
    const answer = await proveClassAnswer({
      commitment,
      treeSize: cp.size,
      treeRoot: cp.rootHash,
      leaves,
      fromTime,
      toTime,
      read: async (index) => {
        const n = Math.floor(index / TILE_WIDTH);
        let entries = bundles.get(n);
        if (entries === undefined) {
          const w = Math.min(TILE_WIDTH, cp.size - n * TILE_WIDTH);
          entries = decodeEntryBundle(await get(entryBundlePath(n, w)), w);
          bundles.set(n, entries);
        }
        return {
          record: entries[index - n * TILE_WIDTH] as Uint8Array,
          inclusion: await inclusionProofFromOracle(index, cp.size, oracle),
        };
      },
    });
    const { commitment: _c, treeSize: _s, treeRoot: _r, ...rest } = answer;
    return formatClassAnswerDocument({ logId, className, checkpoint: text, anchors, answer: rest });
  }
}
