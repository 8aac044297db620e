/**
 * Producer streams (docs/events.md §Producer streams): what ingest knows about
 * each (log, stream) from the `producer: { stream, seq, epoch? }` of the
 * events it appended — the highest contiguous seq, the open gaps, duplicates,
 * resets — as a pure fold.
 *
 * Invariants of a StreamState (checkStreamState asserts them):
 *  - 0 ≤ contiguous ≤ highest; every seq ≤ contiguous arrived or was abandoned;
 *  - gaps are sorted, disjoint, non-adjacent-free ranges strictly between
 *    contiguous and highest: contiguous = gaps[0].from − 1 when there are
 *    gaps, else highest; every seq in a gap is missing, every seq in
 *    (contiguous, highest] outside the gaps arrived;
 *  - at most `maxGaps` gaps: past the bound the OLDEST gap is abandoned (its
 *    seqs counted in `abandoned`, `gapsAbandoned` + 1) and the contiguous mark
 *    moves past it, so the state stays exact in what it claims and a producer
 *    skipping seqs at random costs bounded space. A late event for an
 *    abandoned seq is counted as a duplicate.
 *
 * Order: within one epoch the fold is order-independent — any interleaving of
 * the same events gives the same seqs, gaps and counts (test/core/producer.test.ts
 * checks it with fast-check) — except for the time each gap was first noticed
 * and, past the gap bound, which gaps were abandoned. Across epochs it is not:
 * an event of epoch e arriving after one of epoch e+1 is `stale`.
 *
 * The state is derived: it can be recomputed by folding the log's records in
 * index order, so losing an update (a crash after the commit) leaves it behind,
 * never wrong.
 */
export const DEFAULT_MAX_GAPS = 64;
export const HEARTBEAT_ACTION = 'producer.heartbeat';

export interface GapRange {
  /** First and last missing seq, inclusive. */
  readonly from: number;
  readonly to: number;
  /** When ingest first noticed these seqs missing (epoch ms). */
  readonly since: number;
}

export interface StreamState {
  readonly stream: string;
  readonly epoch: number;
  /** Every seq ≤ this arrived (or was abandoned past the gap bound). */
  readonly contiguous: number;
  readonly highest: number;
  readonly gaps: readonly GapRange[];
  /** Events folded in this epoch, duplicates included. */
  readonly events: number;
  readonly duplicates: number;
  /** Events of an older epoch, seen after a newer one. */
  readonly stale: number;
  /** Missing seqs given up: gaps abandoned past the bound, and those open when a new epoch began. */
  readonly abandoned: number;
  readonly gapsAbandoned: number;
  readonly resets: number;
  readonly firstSeenAt: number;
  readonly lastSeenAt: number;
  /** From the newest `producer.heartbeat` (by seq): seconds until the next one is due. */
  readonly heartbeatIntervalSeconds?: number;
  readonly heartbeatSeq?: number;
}

/** One event's position as ingest sees it. */
export interface Position {
  readonly seq: number;
  readonly epoch?: number;
  /** When the log received it (epoch ms). */
  readonly at: number;
  /** For a producer.heartbeat: its declared interval. */
  readonly heartbeatIntervalSeconds?: number;
}

export function emptyStream(stream: string, epoch: number, at: number): StreamState {
  return {
    stream,
    epoch,
    contiguous: 0,
    highest: 0,
    gaps: [],
    events: 0,
    duplicates: 0,
    stale: 0,
    abandoned: 0,
    gapsAbandoned: 0,
    resets: 0,
    firstSeenAt: at,
    lastSeenAt: at,
  };
}

type Mutable = { -readonly [K in keyof StreamState]: StreamState[K] };

/** Folds one position into `s` (a copy is mutated; `s` is not). */
function foldOne(s: Mutable, p: Position, maxGaps: number): void {
  const epoch = p.epoch ?? 0;
  s.lastSeenAt = Math.max(s.lastSeenAt, p.at);
  s.firstSeenAt = Math.min(s.firstSeenAt, p.at);
  if (epoch < s.epoch) {
    s.stale++;
    return;
  }
  if (epoch > s.epoch) {
    // A reset: the producer lost its counter. What was still missing of the old epoch is given up.
    const missing = s.gaps.reduce((n, g) => n + g.to - g.from + 1, 0);
    const next = emptyStream(s.stream, epoch, p.at);
    Object.assign(s, {
      ...next,
      stale: s.stale,
      abandoned: s.abandoned + missing,
      gapsAbandoned: s.gapsAbandoned + s.gaps.length,
      resets: s.resets + 1,
      firstSeenAt: s.firstSeenAt,
      lastSeenAt: s.lastSeenAt,
    });
    delete s.heartbeatIntervalSeconds;
    delete s.heartbeatSeq;
  }
  s.events++;
  const seq = p.seq;
  if (p.heartbeatIntervalSeconds !== undefined && (s.heartbeatSeq === undefined || seq >= s.heartbeatSeq)) {
    s.heartbeatIntervalSeconds = p.heartbeatIntervalSeconds;
    s.heartbeatSeq = seq;
  }
  if (seq <= s.contiguous) {
    s.duplicates++;
    return;
  }
  if (seq > s.highest) {
    if (seq > s.highest + 1) s.gaps = [...s.gaps, { from: s.highest + 1, to: seq - 1, since: p.at }];
    s.highest = seq;
  } else {
    const i = s.gaps.findIndex((g) => g.from <= seq && seq <= g.to);
    if (i < 0) {
      s.duplicates++;
      return;
    }
    const g = s.gaps[i] as GapRange;
    const parts: GapRange[] = [];
    if (g.from < seq) parts.push({ from: g.from, to: seq - 1, since: g.since });
    if (seq < g.to) parts.push({ from: seq + 1, to: g.to, since: g.since });
    s.gaps = [...s.gaps.slice(0, i), ...parts, ...s.gaps.slice(i + 1)];
  }
  while (s.gaps.length > maxGaps) {
    const oldest = s.gaps[0] as GapRange;
    s.abandoned += oldest.to - oldest.from + 1;
    s.gapsAbandoned++;
    s.gaps = s.gaps.slice(1);
  }
  s.contiguous = s.gaps.length > 0 ? (s.gaps[0] as GapRange).from - 1 : s.highest;
}

/**
 * Folds `positions` (one batch's events of `stream`, in index order) into
 * `state` (undefined: the stream is new). Pure.
 */
export function foldStream(
  state: StreamState | undefined,
  stream: string,
  positions: readonly Position[],
  maxGaps = DEFAULT_MAX_GAPS,
): StreamState {
  const first = positions[0];
  if (!state && !first) throw new RangeError('nothing to fold');
  const s: Mutable = { ...(state ?? emptyStream(stream, first?.epoch ?? 0, first?.at ?? 0)) };
  for (const p of positions) foldOne(s, p, maxGaps);
  return s;
}

/** Missing seqs in the open gaps. */
export function missingCount(s: StreamState): number {
  return s.gaps.reduce((n, g) => n + g.to - g.from + 1, 0);
}

/** Open gaps first noticed at or before `now - maxAgeMs`. */
export function overdueGaps(s: StreamState, now: number, maxAgeMs: number): GapRange[] {
  return s.gaps.filter((g) => g.since <= now - maxAgeMs);
}

/** True when the stream declared a heartbeat interval and has been silent for longer. */
export function isSilent(s: StreamState, now: number): boolean {
  return s.heartbeatIntervalSeconds !== undefined && now - s.lastSeenAt > s.heartbeatIntervalSeconds * 1000;
}

/** Throws when `s` breaks an invariant of the header comment (tests, and a guard on stored state). */
export function checkStreamState(s: StreamState, maxGaps = DEFAULT_MAX_GAPS): void {
  const bad = (why: string) => {
    throw new RangeError(`stream ${s.stream}: ${why}`);
  };
  if (!(s.contiguous >= 0 && s.contiguous <= s.highest)) bad('contiguous out of range');
  if (s.gaps.length > maxGaps) bad('too many gaps');
  let prev = s.contiguous;
  for (const g of s.gaps) {
    if (g.from > g.to) bad('empty gap');
    if (g.from <= prev) bad('gaps overlap or touch the contiguous mark');
    if (g.to >= s.highest) bad('a gap reaches the highest seq');
    prev = g.to + 1; // the seq after a gap arrived
  }
  const first = s.gaps[0];
  if (s.contiguous !== (first ? first.from - 1 : s.highest))
    bad('contiguous is not where the first gap starts');
}
