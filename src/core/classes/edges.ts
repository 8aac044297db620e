/**
 * The class logs' right edges as the sealer keeps them in its seal state
 * (docs/formats.md §Seal state, docs/classes.md §Sealing): one compact range
 * per class log, named by the log's archive folder (classLogPrefix), so the
 * next seal continues each class log without rebuilding its edge from the
 * archived partial tiles.
 *
 * A kept edge is a hint, never the truth: the sealer uses one only when it
 * is at exactly the size of its class's line in the signed checkpoint the
 * state holds and folds to that line's root (src/app/seal.ts). Format 1,
 * big-endian:
 *
 *     0x01 ‖ uint16 count ‖ count × ( uint8 n ‖ n bytes folder (ASCII) ‖ uint16 m ‖ m bytes CompactRange.toBytes() )
 *
 * folders strictly ascending (one entry per class log). Parsed as untrusted
 * input: the store can be written by others than the sealer.
 */
import { CompactRange } from '../merkle/compact-range.ts';
import { MerkleError } from '../merkle/errors.ts';
import { ClassError } from './errors.ts';

export const CLASS_EDGES_FORMAT = 1;

/** One class log's right edge; `folder` is its classLogPrefix (`classes/<name>/<key>/`). */
export interface ClassEdge {
  readonly folder: string;
  readonly edge: CompactRange;
}

const FOLDER = /^classes\/[a-z][a-z0-9_-]{0,31}\/[0-9a-f]{16}\/$/;

export function encodeClassEdges(edges: readonly ClassEdge[]): Uint8Array {
  const sorted = [...edges].sort((a, b) => (a.folder < b.folder ? -1 : a.folder > b.folder ? 1 : 0));
  const parts = sorted.map((e, i) => {
    if (!FOLDER.test(e.folder)) throw new TypeError(`not a class log folder: ${JSON.stringify(e.folder)}`);
    if (i > 0 && sorted[i - 1]?.folder === e.folder) throw new TypeError(`class log ${e.folder} twice`);
    return { folder: new TextEncoder().encode(e.folder), edge: e.edge.toBytes() };
  });
  if (parts.length > 0xffff) throw new TypeError('too many class edges');
  const out = new Uint8Array(3 + parts.reduce((n, p) => n + 1 + p.folder.length + 2 + p.edge.length, 0));
  const view = new DataView(out.buffer);
  out[0] = CLASS_EDGES_FORMAT;
  view.setUint16(1, parts.length);
  let at = 3;
  for (const p of parts) {
    out[at] = p.folder.length;
    out.set(p.folder, at + 1);
    at += 1 + p.folder.length;
    view.setUint16(at, p.edge.length);
    out.set(p.edge, at + 2);
    at += 2 + p.edge.length;
  }
  return out;
}

/**
 * The edges by folder. Undefined for another format (a state written by a
 * newer sealer): the caller then rebuilds edges from the archive, as for a
 * state that has none. Throws ClassError MALFORMED_CLASS_EDGES for format-1
 * bytes that do not parse exactly.
 */
export function decodeClassEdges(bytes: Uint8Array): Map<string, CompactRange> | undefined {
  if (bytes.length === 0 || bytes[0] !== CLASS_EDGES_FORMAT) return undefined;
  const bad = (why: string, cause?: unknown) =>
    new ClassError('MALFORMED_CLASS_EDGES', `kept class edges: ${why}`, cause === undefined ? {} : { cause });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 3) throw bad('truncated header');
  const count = view.getUint16(1);
  const out = new Map<string, CompactRange>();
  let at = 3;
  let last = '';
  for (let i = 0; i < count; i++) {
    if (at + 1 > bytes.length) throw bad('truncated');
    const n = bytes[at] as number;
    if (at + 1 + n + 2 > bytes.length) throw bad('truncated');
    const folder = String.fromCharCode(...bytes.subarray(at + 1, at + 1 + n));
    if (!FOLDER.test(folder)) throw bad('an entry does not name a class log folder');
    if (!(folder > last)) throw bad('folders are not strictly ascending');
    last = folder;
    at += 1 + n;
    const m = view.getUint16(at);
    if (at + 2 + m > bytes.length) throw bad('truncated');
    try {
      out.set(folder, CompactRange.fromBytes(bytes.slice(at + 2, at + 2 + m)));
    } catch (cause) {
      if (cause instanceof MerkleError) throw bad(`edge of ${folder}: ${cause.message}`, cause);
      throw cause;
    }
    at += 2 + m;
  }
  if (at !== bytes.length) throw bad('trailing bytes');
  return out;
}
