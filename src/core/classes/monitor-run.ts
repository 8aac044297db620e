/**
 * One class-monitor run (docs/classes.md §Monitor): recompute every class
 * log of a log from its main log's records and compare with the class roots
 * its signed checkpoint commits, incrementally from the last checked size.
 *
 * Completeness of a class answer (docs/bundle.md §Class answers) rests on
 * the sealer having put every record of the class in the class log. Nothing
 * in a class answer can show that; this can, for anyone who can read the
 * log's checkpoint and entry bundles (an auditor, a third party): a sealer
 * that skipped a class record signs a class root the records do not give,
 * and because class logs are append-only the divergence stays visible at
 * every later checkpoint.
 */

import { fromBase64, toBase64 } from '../bytes.ts';
import { AnchorlogError } from '../errors.ts';
import { CompactRange } from '../merkle/compact-range.ts';
import { decodeEntryBundle } from '../merkle/entry-bundle.ts';
import { emptyRoot } from '../merkle/hasher.ts';
import { entryBundlePath, TILE_WIDTH } from '../merkle/tile-path.ts';
import type { NoteVerifier } from '../note/verifiers.ts';
import { checkpointFromNote } from '../note/verify.ts';
import { classCommitments, formatClassLine, parseClassLine } from './commitment.ts';
import { ClassMonitor, type Divergence, type MonitoredClass } from './monitor.ts';

/** Read access to one log's published objects (archive, or the read API). */
export interface LogSource {
  /** The current signed checkpoint text, or undefined when the log was never sealed. */
  checkpoint(): Promise<string | undefined>;
  /** A published object by tlog-tiles path (`tile/entries/000`), or undefined. */
  get(path: string): Promise<Uint8Array | undefined>;
}

/** What a monitor keeps between runs: O(log n) hashes per class. JSON-safe. */
export interface MonitorState {
  readonly size: number;
  /** CompactRange of the main tree at `size`, base64 of toBytes(). */
  readonly main: string;
  /** Per class: its line at `size` (definition, fromSize, size, root) and right edge. */
  readonly classes: readonly { readonly line: string; readonly edge: string }[];
}

export interface MonitorReport {
  /** Size checked up to (the checkpoint's), or the previous one on divergence. */
  readonly checkedSize: number;
  readonly previousSize: number;
  readonly classes: readonly string[];
  readonly divergence: Divergence | undefined;
  /** State to resume from next time (unchanged on divergence). */
  readonly state: MonitorState;
}

/**
 * Why a monitor run could not check (not a divergence): the checkpoint does
 * not verify with the log key, a published entry bundle is missing, or the
 * saved state is damaged.
 */
export type MonitorErrorCode = 'CHECKPOINT_INVALID' | 'MISSING_ENTRIES' | 'STATE_INVALID';
export class MonitorError extends AnchorlogError<MonitorErrorCode> {}

/** 64 entry bundles (16,384 records): a few MiB of records per read at typical record sizes, never the whole log. */
export const MONITOR_RECORDS_PER_READ = 16_384;

export const INITIAL_MONITOR_STATE: MonitorState = {
  size: 0,
  main: toBase64(CompactRange.empty().toBytes()),
  classes: [],
};

function resume(state: MonitorState): ClassMonitor {
  try {
    return ClassMonitor.resume({
      size: state.size,
      main: CompactRange.fromBytes(fromBase64(state.main)),
      classes: state.classes.map((c) => {
        const commitment = parseClassLine(c.line);
        return { commitment, range: CompactRange.fromBytes(fromBase64(c.edge)) } satisfies MonitoredClass;
      }),
    });
  } catch (cause) {
    throw new MonitorError('STATE_INVALID', 'the saved monitor state does not parse', { cause });
  }
}

function save(m: ClassMonitor): MonitorState {
  const st = m.state();
  return {
    size: st.size,
    main: toBase64(st.main.toBytes()),
    classes: st.classes.map((c) => ({
      line: formatClassLine({
        ...c.commitment,
        size: c.range.size,
        rootHash: c.range.size === 0 ? emptyRoot() : c.range.root(),
      }),
      edge: toBase64(c.range.toBytes()),
    })),
  };
}

/** Records [from, to) from the entry bundles (full bundles, and the partial one at the end). */
async function readRecords(src: LogSource, from: number, to: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let n = Math.floor(from / TILE_WIDTH); n * TILE_WIDTH < to; n++) {
    const width = Math.min(TILE_WIDTH, to - n * TILE_WIDTH);
    const path = entryBundlePath(n, width);
    const body = await src.get(path);
    if (body === undefined)
      throw new MonitorError('MISSING_ENTRIES', `entry bundle ${path} is not published`);
    const entries = decodeEntryBundle(body, width);
    const start = n * TILE_WIDTH;
    for (let i = Math.max(from, start); i < start + width; i++) out.push(entries[i - start] as Uint8Array);
  }
  return out;
}

/**
 * One monitor run: verifies the current checkpoint with the log's key, reads
 * the records appended since `state.size`, and checks the main root and every
 * class root. Divergence is reported, not thrown: it is the finding.
 */
export async function monitorLog(opts: {
  readonly source: LogSource;
  readonly origin: string;
  readonly verifiers: readonly NoteVerifier[];
  readonly state?: MonitorState;
  /** Records read and folded at a time (rounded down to whole entry bundles); default MONITOR_RECORDS_PER_READ. */
  readonly recordsPerRead?: number;
}): Promise<MonitorReport> {
  const state = opts.state ?? INITIAL_MONITOR_STATE;
  const m = resume(state);
  const text = await opts.source.checkpoint();
  if (text === undefined)
    return { checkedSize: state.size, previousSize: state.size, classes: [], divergence: undefined, state };
  let cp: ReturnType<typeof checkpointFromNote>;
  try {
    cp = checkpointFromNote(text, opts.origin, opts.verifiers);
  } catch (cause) {
    throw new MonitorError(
      'CHECKPOINT_INVALID',
      `the checkpoint does not verify: ${(cause as Error).message}`,
      { cause },
    );
  }
  if (cp.size < state.size)
    return {
      checkedSize: state.size,
      previousSize: state.size,
      classes: [],
      divergence: {
        checkpointSize: cp.size,
        className: undefined,
        reason: `the log shrank below the checked size ${state.size}`,
      },
      state,
    };
  const classes = classCommitments(cp.extensions, cp.size);
  // Bounded memory whatever the distance to the checkpoint (a first run over
  // a log of millions): the records are read and folded a piece of whole
  // entry bundles at a time. Nothing is saved until the checkpoint's roots
  // are matched, so a run that stops part-way resumes from the last checked
  // size; the bundles are immutable, so the rerun reads the same records.
  const run = m.begin({ size: cp.size, rootHash: cp.rootHash, classes });
  const piece =
    Math.max(1, Math.floor((opts.recordsPerRead ?? MONITOR_RECORDS_PER_READ) / TILE_WIDTH)) * TILE_WIDTH;
  for (let from = state.size; from < cp.size; ) {
    const to = Math.min(cp.size, Math.floor(from / TILE_WIDTH) * TILE_WIDTH + piece);
    run.feed(await readRecords(opts.source, from, to));
    from = to;
  }
  const divergence = run.finish();
  return {
    checkedSize: divergence ? state.size : cp.size,
    previousSize: state.size,
    classes: classes.map((c) => c.def.name),
    divergence,
    state: divergence ? state : save(m),
  };
}
