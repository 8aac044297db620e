/**
 * What the verify page shows after the verifier has accepted a bundle: the
 * records (table, search, histograms) and one record's proof. Built by a
 * second pass over the same file with the core's tar reader and member
 * limits, only after verifyBundle succeeded, so every byte shown here was
 * proved; nothing here decides the verdict.
 *
 * Memory: the records chunks are kept as read (about the records' size in the
 * bundle) plus 32 bytes of leaf hash and one short row per record.
 */
import { memberLimit } from '../../../src/core/bundle/format.ts';
import type { BundleReport } from '../../../src/core/bundle/index.ts';
import { readTar } from '../../../src/core/bundle/tar.ts';
import { fromBase64, fromUtf8, toBase64 } from '../../../src/core/bytes.ts';
import { verifyConsistency, verifyInclusion } from '../../../src/core/merkle/index.ts';
import { leafHash } from '../../../src/core/record.ts';
import type { Histograms, RecordProof, Row } from './protocol.ts';
import { RangeTree } from './range-proof.ts';

interface Parsed {
  readonly index: number;
  readonly receivedAt: string;
  readonly prev: string;
  readonly event: {
    readonly action: string;
    readonly outcome: string;
    readonly actor: { readonly type: string; readonly id: string };
    readonly target?: { readonly type: string; readonly id: string };
  };
}

export class Evidence {
  readonly rows: Row[] = [];
  /** Search text per row, lowercased. */
  readonly #haystack: string[] = [];
  readonly #lines: Uint8Array[] = [];
  readonly #prev: string[] = [];
  #leaves = new Uint8Array(0);
  readonly #inclusion = new Map<number, string[]>();
  #left: Uint8Array[] = [];
  #consistency: string[] = [];
  readonly #report: BundleReport;
  #tree: RangeTree | undefined;

  private constructor(report: BundleReport) {
    this.#report = report;
  }

  static async read(source: AsyncIterable<Uint8Array>, report: BundleReport): Promise<Evidence> {
    const ev = new Evidence(report);
    const leaves: Uint8Array[] = [];
    for await (const m of readTar(source, memberLimit)) {
      if (m.path === 'proofs.json') {
        const p = JSON.parse(fromUtf8(m.data)) as { left?: string[]; consistency?: string[] } | null;
        ev.#left = (p?.left ?? []).map(fromBase64);
        ev.#consistency = p?.consistency ?? [];
      } else if (m.path.startsWith('records/')) {
        let start = 0;
        for (let i = 0; i < m.data.length; i++) {
          if (m.data[i] !== 0x0a) continue;
          ev.#add(m.data.subarray(start, i), leaves);
          start = i + 1;
        }
      } else if (m.path.startsWith('inclusion/')) {
        for (const line of fromUtf8(m.data).split('\n')) {
          if (!line) continue;
          const p = JSON.parse(line) as { index: number; hashes: string[] };
          ev.#inclusion.set(p.index, p.hashes);
        }
      }
    }
    ev.#leaves = new Uint8Array(leaves.length * 32);
    leaves.forEach((l, i) => {
      ev.#leaves.set(l, i * 32);
    });
    return ev;
  }

  #add(line: Uint8Array, leaves: Uint8Array[]): void {
    const r = JSON.parse(fromUtf8(line)) as Parsed;
    const e = r.event;
    const row: Row = {
      index: r.index,
      receivedAt: r.receivedAt,
      action: e.action,
      actor: `${e.actor.type}:${e.actor.id}`,
      target: e.target ? `${e.target.type}:${e.target.id}` : '',
      outcome: e.outcome,
    };
    this.rows.push(row);
    this.#haystack.push(
      `${row.index} ${row.receivedAt} ${row.action} ${row.actor} ${row.target} ${row.outcome}`.toLowerCase(),
    );
    this.#lines.push(line);
    this.#prev.push(r.prev);
    leaves.push(leafHash(line));
  }

  histograms(): Histograms {
    const days = new Map<string, number>();
    const actions = new Map<string, number>();
    for (const r of this.rows) {
      const d = r.receivedAt.slice(0, 10);
      days.set(d, (days.get(d) ?? 0) + 1);
      actions.set(r.action, (actions.get(r.action) ?? 0) + 1);
    }
    return {
      days: [...days].sort((a, b) => (a[0] < b[0] ? -1 : 1)),
      actions: [...actions].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)),
    };
  }

  /** Rows whose index, time, action, actor, target or outcome contain every word of `query`. */
  search(query: string, offset: number, limit: number): { rows: Row[]; total: number } {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    const hits: Row[] = [];
    let total = 0;
    for (let i = 0; i < this.rows.length; i++) {
      const text = this.#haystack[i] as string;
      if (!words.every((w) => text.includes(w))) continue;
      if (total >= offset && hits.length < limit) hits.push(this.rows[i] as Row);
      total++;
    }
    return { rows: hits, total };
  }

  /** The proof that record `index` is in the checkpoint, re-checked with the core; null if not in the bundle. */
  proof(index: number): RecordProof | null {
    const at = this.rows.findIndex((r) => r.index === index);
    if (at < 0) return null;
    const line = this.#lines[at] as Uint8Array;
    const leaf = this.#leaves.subarray(at * 32, at * 32 + 32);
    const cp = this.#report.checkpoint;
    const cpRoot = fromBase64(cp.rootHash);
    const common = {
      index,
      record: fromUtf8(line),
      leafHash: toBase64(leaf),
      prev: this.#prev[at] as string,
      checkpointSize: cp.size,
      checkpointRoot: cp.rootHash,
    };
    if (this.#report.mode === 'filtered') {
      const hashes = this.#inclusion.get(index) ?? [];
      verifyInclusion(leaf, index, cp.size, hashes.map(fromBase64), cpRoot);
      return {
        ...common,
        kind: 'inclusion',
        treeSize: cp.size,
        treeRoot: cp.rootHash,
        inclusion: hashes,
        consistency: [],
        rechecked: true,
      };
    }
    this.#tree ??= new RangeTree({
      first: this.#report.range.firstIndex,
      left: this.#left,
      leaves: this.#leaves,
      count: this.rows.length,
    });
    const t = this.#tree;
    const path = t.inclusion(index);
    const root = t.root();
    verifyInclusion(leaf, index, t.size, path, root);
    if (t.size === cp.size) {
      if (toBase64(root) !== cp.rootHash) throw new Error('range root differs from the checkpoint root');
    } else verifyConsistency(t.size, cp.size, this.#consistency.map(fromBase64), root, cpRoot);
    return {
      ...common,
      kind: 'range',
      treeSize: t.size,
      treeRoot: toBase64(root),
      inclusion: path.map(toBase64),
      consistency: this.#consistency,
      rechecked: true,
    };
  }
}
