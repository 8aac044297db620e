/**
 * The class monitor's pure core (docs/classes.md §Monitor): recomputes every
 * class log from the main log's records and compares it with the class roots
 * a signed checkpoint commits. Completeness of a class answer rests on the
 * sealer having put every class record in the class log; this is how anyone
 * holding the main log checks that it did.
 *
 * Incremental: the state is the main right edge and each class's right edge
 * at the last checked size (O(log n) hashes per class), so a run reads only
 * records appended since.
 */
import { bytesEqual } from '../bytes.ts';
import { CompactRange } from '../merkle/compact-range.ts';
import { decodeRecord, leafHash } from '../record.ts';
import { type ClassCommitment, classLogPrefix } from './commitment.ts';
import { classMatcher, sameDefinition } from './definition.ts';
import { classLeafHash } from './leaf.ts';

export interface MonitoredClass {
  readonly commitment: Pick<ClassCommitment, 'def' | 'fromSize'>;
  readonly range: CompactRange;
}

/** Where the recomputed logs and the signed ones first disagree. */
export interface Divergence {
  /** Checkpoint size at which it was found. */
  readonly checkpointSize: number;
  /** The class, or undefined when the main log itself disagrees with its root. */
  readonly className: string | undefined;
  readonly reason: string;
}

export class ClassMonitor {
  #size: number;
  #main: CompactRange;
  #classes: Map<string, MonitoredClass>;

  private constructor(size: number, main: CompactRange, classes: Map<string, MonitoredClass>) {
    this.#size = size;
    this.#main = main;
    this.#classes = classes;
  }

  static empty(): ClassMonitor {
    return new ClassMonitor(0, CompactRange.empty(), new Map());
  }

  /** Resumes from a saved state (see `state`). */
  static resume(state: {
    size: number;
    main: CompactRange;
    classes: readonly MonitoredClass[];
  }): ClassMonitor {
    return new ClassMonitor(
      state.size,
      state.main.clone(),
      new Map(state.classes.map((c) => [c.commitment.def.name, { ...c, range: c.range.clone() }])),
    );
  }

  get size(): number {
    return this.#size;
  }

  state(): { size: number; main: CompactRange; classes: MonitoredClass[] } {
    return {
      size: this.#size,
      main: this.#main.clone(),
      classes: [...this.#classes.values()].map((c) => ({ ...c, range: c.range.clone() })),
    };
  }

  /**
   * Checks the signed checkpoint (size, root, class lines) against the records
   * from the last checked size to `size` (canonical bytes, index order).
   * Returns the first divergence, or undefined and advances the state.
   */
  check(
    checkpoint: { size: number; rootHash: Uint8Array; classes: readonly ClassCommitment[] },
    records: readonly Uint8Array[],
  ): Divergence | undefined {
    const run = this.begin(checkpoint);
    run.feed(records);
    return run.finish();
  }

  /**
   * The same check with the records fed in pieces (`feed`, in index order),
   * so a first run over a log of any size holds one piece at a time, not the
   * whole log: each record is folded into the main and class right edges as
   * it comes (O(log n) hashes each) and dropped. `finish` compares with the
   * checkpoint and reports the same first divergence `check` would; the
   * state advances only then, and only without one.
   */
  begin(checkpoint: { size: number; rootHash: Uint8Array; classes: readonly ClassCommitment[] }): {
    feed(records: readonly Uint8Array[]): void;
    finish(): Divergence | undefined;
  } {
    const diverge = (className: string | undefined, reason: string): Divergence => ({
      checkpointSize: checkpoint.size,
      className,
      reason,
    });
    const main = this.#main.clone();
    const classes = checkpoint.classes.map((c) => {
      const known = this.#classes.get(c.def.name);
      const continued =
        known !== undefined &&
        sameDefinition(known.commitment.def, c.def) &&
        known.commitment.fromSize === c.fromSize;
      // A declaration since the last check may not be backdated (reported in
      // class order, after the main root, as `check` always has).
      const backdated = !continued && c.fromSize < this.#size;
      const base: MonitoredClass = continued
        ? known
        : { commitment: { def: c.def, fromSize: c.fromSize }, range: CompactRange.empty() };
      return {
        c,
        backdated,
        commitment: base.commitment,
        range: base.range.clone(),
        matches: classMatcher(c.def),
      };
    });
    let index = this.#size;
    let finished = false;
    return {
      feed: (records) => {
        if (finished) throw new Error('ClassMonitor: feed after finish');
        for (const bytes of records) {
          const hash = leafHash(bytes);
          main.append(hash);
          // Past the checkpoint's size, only the count matters (finish reports it).
          if (index < checkpoint.size) {
            const event = decodeRecord(bytes).event;
            for (const k of classes)
              if (!k.backdated && index >= k.c.fromSize && k.matches(event))
                k.range.append(classLeafHash({ index, leafHash: hash }));
          }
          index++;
        }
      },
      finish: () => {
        finished = true;
        if (index !== checkpoint.size)
          return diverge(
            undefined,
            `expected ${checkpoint.size - this.#size} records after size ${this.#size}, got ${index - this.#size}`,
          );
        if (!bytesEqual(main.root(), checkpoint.rootHash))
          return diverge(undefined, `the records do not give the signed root at size ${checkpoint.size}`);
        const next = new Map<string, MonitoredClass>();
        for (const { c, backdated, commitment, range } of classes) {
          if (backdated)
            return diverge(
              c.def.name,
              `${classLogPrefix(c)} is declared at size ${c.fromSize}, before the last checked size ${this.#size}`,
            );
          if (range.size !== c.size)
            return diverge(
              c.def.name,
              `the class log should hold ${range.size} records at size ${checkpoint.size}, the checkpoint says ${c.size}`,
            );
          if (!bytesEqual(range.root(), c.rootHash))
            return diverge(
              c.def.name,
              `the recomputed class root at size ${checkpoint.size} differs from the signed one`,
            );
          next.set(c.def.name, { commitment, range });
        }
        this.#size = checkpoint.size;
        this.#main = main;
        this.#classes = next;
        return undefined;
      },
    };
  }
}
