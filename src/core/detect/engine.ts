/**
 * The detection engine (docs/detection.md "Evaluation"): a deterministic fold
 * of a log's steps — records in log order, and ticks of log time — over
 * compiled rules and their state, producing new state and alerts.
 *
 * Two phases per chunk, so a store is read once per chunk and not per record:
 *
 *   prepare(cursor, steps)      pure CEL work: every rule's expressions on
 *                               every record; lists the state keys the chunk
 *                               touches;
 *   (the driver reads those keys from the DetectionStateStore)
 *   apply(cursor, prepared, items)
 *                               the stateful fold, in order: windows,
 *                               first-seen, silences, suppression and
 *                               de-duplication; returns the new cursor, the
 *                               items that changed (absolute values) and the
 *                               outbox entries, for one atomic commit.
 *
 * Determinism is the whole contract: the same cursor, items and steps give
 * the same result, byte for byte, however the stream was cut into chunks and
 * however often a chunk was redone after a crash (test/core/detect/
 * chunking.test.ts). Nothing here reads a clock, a random source or the
 * environment; time is the records' receivedAt and the ticks.
 */

import type { Timestamp } from '@bufbuild/protobuf/wkt';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { DETECTION_ACTOR } from '../deliver/events.ts';
import { AnchorlogError } from '../errors.ts';
import { parseUtcTimestamp } from '../event.ts';
import type { LogRecord } from '../record.ts';
import { type AlertDocument, alertId, isoMs, type OutboxEntry } from './alert.ts';
import type { CompiledRule } from './compile.ts';
import { formatDuration } from './duration.ts';
import type { ExpressionPosition } from './errors.ts';
import {
  type Bindings,
  type CompiledExpression,
  celJson,
  type ExprResult,
  guardVerdict,
  keyString,
  numberOf,
  Verdict,
} from './expr.ts';
import { KEY_MAX_CHARS } from './rule.ts';
import {
  ABSENCE_FORGET_MS,
  type DedupItem,
  type DetectionCursor,
  itemKey,
  MAX_ABSENCE_KEYS,
  NEVER,
  type RuleItem,
  type SeenItem,
  type StateItem,
  type WindowBucket,
  type WindowItem,
} from './state.ts';

export type Step =
  | { readonly kind: 'record'; readonly record: LogRecord }
  /** No record with an earlier receivedAt is still to come (docs/detection.md "Time"). */
  | { readonly kind: 'tick'; readonly atMs: number };

export type DetectionErrorCode =
  /** The steps do not continue the cursor (a gap or a reordering of records). */
  | 'CURSOR_GAP'
  /** Steps of another log. */
  | 'WRONG_LOG'
  /** apply was given items that do not include a key prepare listed (a driver bug). */
  | 'STATE_NOT_READ';
export class DetectionError extends AnchorlogError<DetectionErrorCode> {}

export interface RuleStats {
  /** Records whose match was decided past the guards (records a guard rejected are not counted). */
  evaluated: number;
  /** …of which CEL evaluated the match (the others were decided by their guards alone). */
  cel: number;
  matched: number;
  /** Expressions that evaluated to an error (or a wrong type): the rule did not match. */
  errors: number;
  budgetExceeded: number;
  /** The first error of the chunk, for a log line. */
  firstError?: { path: string; code: string; message: string; position: ExpressionPosition | undefined };
  alerts: number;
  occurrences: number;
  suppressed: number;
  /** First-seen values recorded silently while the rule was learning. */
  learned: number;
}

export interface ChunkStats {
  records: number;
  ticks: number;
  /** Records before the cursor, skipped (a redo after a commit that landed). */
  skipped: number;
  /** Records whose receivedAt is before the watermark (ticked past too early). */
  late: number;
  absenceKeysDropped: number;
  rules: Record<string, RuleStats>;
}

interface RuleEval {
  readonly rule: number;
  /** Threshold group, first-seen key, absence key ('' when the rule has none). */
  readonly key: string;
  /** First-seen value; distinct value. */
  value?: string;
  /** Sum operand. */
  num?: number;
  dedupKey?: string;
  /** A `requires` rule's precursor (not a trigger). */
  readonly precursor?: true;
  /** The state item the rule's kind reads (window, seen, precursor), computed once in prepare. */
  item?: string;
  /** The dedup item, when the rule de-duplicates. */
  dedupItem?: string;
}

interface PreparedStep {
  readonly step: Step;
  readonly timeMs: number;
  readonly evals: readonly RuleEval[];
}

export interface PreparedChunk {
  readonly logId: string;
  readonly steps: readonly PreparedStep[];
  /** The state items apply will read, sorted. */
  readonly keys: readonly string[];
  readonly stats: ChunkStats;
}

export interface ChunkResult {
  /** The cursor to commit (version + 1). */
  readonly cursor: DetectionCursor;
  /** Items that changed, by key, with their complete new values. */
  readonly puts: ReadonlyMap<string, StateItem>;
  readonly outbox: readonly OutboxEntry[];
  readonly stats: ChunkStats;
}

const ACTION_INDEX_MAX = 10_000;
/** An expression that matches no record: the precursor test of a rule without one. */
const NO_RECORD = (_action: string) => false;

/** The test an expression's guards on `event.action` put on it; undefined when they put none. */
function actionTest(e: CompiledExpression): ((action: string) => boolean) | undefined {
  const tests = e.guards.filter(
    (g) => g.path.length === 2 && g.path[0] === 'event' && g.path[1] === 'action',
  );
  if (tests.length === 0) return undefined;
  return (a) =>
    tests.every((g) => {
      switch (g.kind) {
        case 'in':
          return g.values.has(a);
        case 'ne':
          return a !== g.value;
        case 'prefix':
          return a.startsWith(g.prefix);
        default:
          // A numeric comparison on a string is an error, and has() is true: decided later.
          return true;
      }
    });
}

/** A match decided by its guards. */
const DECIDED: ExprResult = { ok: true, value: true };

/** A match expression's value: from its guards when they decide it, else from CEL. */
function decide(e: CompiledExpression, bindings: Bindings, s: RuleStats, verdict: Verdict): ExprResult {
  if (verdict === Verdict.True && e.exact) return DECIDED;
  s.cel++;
  return e.evaluate(bindings);
}

/** How many record indexes an alert's evidence lists. */
const EVIDENCE_INDEXES = 10;
/** Sliding windows move in steps of 1/SLIDING_STEPS of the window. */
const SLIDING_STEPS = 60;

interface Candidate {
  readonly rule: CompiledRule;
  readonly key: string;
  readonly dedupKey: string | undefined;
  readonly dedupItem?: string | undefined;
  readonly firedAtMs: number;
  readonly trigger: { index: number; receivedAt: string } | null;
  readonly triggerId: string;
  readonly summary: string;
  readonly value: number | null;
  /** The value compared with (threshold rules; with a baseline, the higher of the floor and factor × mean). */
  readonly threshold?: number;
  readonly evidence: { fromMs: number; toMs: number; indexes: readonly number[] };
}

export class DetectionEngine {
  readonly logId: string;
  /** The rules that run on this log, enabled, in the order given. */
  readonly rules: readonly CompiledRule[];
  readonly #absence: readonly CompiledRule[];
  readonly #withRuleItem: readonly CompiledRule[];

  constructor(logId: string, rules: readonly CompiledRule[]) {
    this.logId = logId;
    this.rules = rules.filter((r) => r.doc.enabled && r.appliesTo(logId));
    this.#absence = this.rules.filter((r) => r.kind === 'absence');
    this.#withRuleItem = this.rules.filter((r) => r.kind === 'absence' || r.kind === 'first_seen');
    this.#actionTests = this.rules.map((r) => {
      const m = actionTest(r.match);
      const p = r.requires ? actionTest(r.requires.precursor) : NO_RECORD;
      return m === undefined || p === undefined ? undefined : (a: string) => m(a) || p(a);
    });
  }

  /**
   * Per `event.action` (every record has one), the rules whose guards on it
   * can hold, in rule order: the others would be skipped by their guards
   * anyway, so the index only saves looking at them. Memoised for the
   * engine's life, up to ACTION_INDEX_MAX actions (an action is at most 128
   * characters and comes from producers, so the memo is bounded).
   */
  #candidates(action: string): readonly number[] {
    const hit = this.#byAction.get(action);
    if (hit !== undefined) return hit;
    const list: number[] = [];
    this.#actionTests.forEach((t, i) => {
      if (t === undefined || t(action)) list.push(i);
    });
    if (this.#byAction.size < ACTION_INDEX_MAX) this.#byAction.set(action, list);
    return list;
  }
  readonly #actionTests: ReadonlyArray<((action: string) => boolean) | undefined>;
  readonly #byAction = new Map<string, number[]>();

  /** Phase 1: CEL over every record, and the state keys the chunk needs. */
  prepare(cursor: DetectionCursor, steps: readonly Step[]): PreparedChunk {
    if (cursor.logId !== this.logId)
      throw new DetectionError('WRONG_LOG', `cursor of log ${cursor.logId} given to log ${this.logId}`);
    const stats = emptyStats(this.rules);
    const keys = new Set<string>();
    for (const r of this.#withRuleItem) keys.add(itemKey.rule(r.stateKey));
    const out: PreparedStep[] = [];
    let next = cursor.nextIndex;
    for (const step of steps) {
      if (step.kind === 'tick') {
        stats.ticks++;
        out.push({ step, timeMs: step.atMs, evals: [] });
        continue;
      }
      const rec = step.record;
      if (rec.logId !== this.logId)
        throw new DetectionError('WRONG_LOG', `record of log ${rec.logId} given to log ${this.logId}`);
      if (rec.index < next) {
        stats.skipped++;
        continue;
      }
      if (rec.index !== next)
        throw new DetectionError(
          'CURSOR_GAP',
          `expected record ${next} of log ${this.logId}, got ${rec.index}`,
        );
      next++;
      stats.records++;
      const timeMs = parseUtcTimestamp(rec.receivedAt) as number;
      // Detection's own alert records (`alert.*` in the system log, submitted by
      // system:detection) are never evaluated: a rule matching them would fire on its
      // own alert's record, and on that one, without end. They still advance time.
      const evals = rec.submitter === DETECTION_ACTOR.id ? [] : this.#evaluate(rec, timeMs, stats);
      for (const e of evals) {
        const r = this.rules[e.rule] as CompiledRule;
        if (r.threshold) e.item = itemKey.window(r.stateKey, e.key);
        else if (r.firstSeen) e.item = itemKey.seen(r.stateKey, e.key, e.value as string);
        else if (r.requires) e.item = itemKey.precursor(r.stateKey, e.key);
        if (e.item !== undefined) keys.add(e.item);
        if (e.dedupKey !== undefined) {
          e.dedupItem = itemKey.dedup(r.id, e.dedupKey);
          keys.add(e.dedupItem);
        }
      }
      out.push({ step, timeMs, evals });
    }
    return { logId: this.logId, steps: out, keys: [...keys].sort(), stats };
  }

  #evaluate(rec: LogRecord, timeMs: number, stats: ChunkStats): RuleEval[] {
    let ts: Timestamp | undefined;
    let event: unknown;
    const bindings: Bindings = {
      // Converted for CEL only if an expression that needs CEL reads it.
      get event() {
        event ??= celJson(rec.event);
        return event;
      },
      submitter: rec.submitter,
      // Built only if an expression reads it: most do not.
      get receivedAt() {
        ts ??= timestampFromMs(timeMs);
        return ts;
      },
      logId: rec.logId,
      index: BigInt(rec.index),
      raw: rec,
    };
    const out: RuleEval[] = [];
    for (const i of this.#candidates(rec.event.action)) {
      const r = this.rules[i] as CompiledRule;
      const rs = stats.rules[r.id] as RuleStats;
      // A precursor first: a record can authorise what it does itself.
      if (r.requires) {
        const v = guardVerdict(r.requires.precursor.guards, rec);
        if (v !== Verdict.False) {
          const p = evaluatePrecursor(r.requires, i, bindings, rs, v);
          if (p !== undefined) out.push(p);
        }
      }
      const v = guardVerdict(r.match.guards, rec);
      if (v === Verdict.False) continue;
      const e = evaluateRule(r, i, bindings, rs, v);
      if (e !== undefined) out.push(e);
    }
    return out;
  }

  /**
   * Phase 2: the fold. `items` must hold every key of `prepared.keys` that
   * the store has (absent keys are simply missing). Pure: `items` is not
   * modified.
   */
  apply(
    cursor: DetectionCursor,
    prepared: PreparedChunk,
    items: ReadonlyMap<string, StateItem>,
  ): ChunkResult {
    const allowed = new Set(prepared.keys);
    const puts = new Map<string, StateItem>();
    const outbox: OutboxEntry[] = [];
    const stats = prepared.stats;
    let now = cursor.watermarkMs;
    let nextIndex = cursor.nextIndex;

    const get = <T extends StateItem>(key: string): T | undefined => {
      if (!allowed.has(key)) throw new DetectionError('STATE_NOT_READ', `state item ${key} was not prepared`);
      const item = puts.has(key) ? puts.get(key) : items.get(key);
      // Expired in log time: as if absent, whether or not the store deleted it yet.
      return item === undefined || item.expiresAtMs <= now ? undefined : (item as T);
    };
    const put = (key: string, item: StateItem) => {
      puts.set(key, item);
    };

    const emit = (c: Candidate) => {
      const r = c.rule;
      const rs = stats.rules[r.id] as RuleStats;
      const id = alertId(this.logId, r.id, r.version, c.triggerId);
      const base = {
        v: 1 as const,
        id,
        logId: this.logId,
        rule: {
          id: r.id,
          version: r.version,
          title: r.doc.title,
          severity: r.doc.severity,
          owner: r.doc.owner,
          runbook: r.doc.runbook,
          kind: r.kind,
        },
        key: c.key,
        firedAt: isoMs(c.firedAtMs),
        trigger: c.trigger,
        summary: c.summary,
        value: c.value,
        threshold: c.threshold ?? null,
        evidence: { from: isoMs(c.evidence.fromMs), to: isoMs(c.evidence.toMs), indexes: c.evidence.indexes },
        destinations: r.doc.destinations ?? [],
        labels: r.doc.labels ?? {},
      };
      const window = r.suppress.find((w) => w.fromMs <= c.firedAtMs && c.firedAtMs < w.toMs);
      if (window) {
        rs.suppressed++;
        const alert: AlertDocument = {
          ...base,
          dedup: null,
          suppressed: { reason: window.reason, from: isoMs(window.fromMs), to: isoMs(window.toMs) },
        };
        outbox.push({ type: 'suppressed', id, alert });
        return;
      }
      let dedup: AlertDocument['dedup'] = null;
      if (r.dedup && c.dedupKey !== undefined) {
        const key = c.dedupItem ?? itemKey.dedup(r.id, c.dedupKey);
        const open = get<DedupItem>(key);
        if (open && c.firedAtMs < open.untilMs && c.trigger) {
          rs.occurrences++;
          put(key, { ...open, occurrences: open.occurrences + 1 });
          outbox.push({
            type: 'occurrence',
            id: `${open.alertId}#${c.trigger.index}`,
            alertId: open.alertId,
            logId: this.logId,
            ruleId: r.id,
            index: c.trigger.index,
            receivedAt: c.trigger.receivedAt,
          });
          return;
        }
        const untilMs = c.firedAtMs + r.dedup.windowMs;
        put(key, {
          type: 'dedup',
          key: c.dedupKey,
          alertId: id,
          untilMs,
          occurrences: 1,
          expiresAtMs: untilMs,
        });
        dedup = { key: c.dedupKey, until: isoMs(untilMs) };
      }
      rs.alerts++;
      outbox.push({ type: 'alert', id, alert: { ...base, dedup, suppressed: null } });
    };

    // Rule items begin at the first step a rule version's state sees.
    let ensured = false;
    const ensureRuleItems = (atMs: number) => {
      // Rule items never expire: once there, they stay for the chunk.
      if (ensured) return;
      ensured = true;
      for (const r of this.#withRuleItem) {
        const key = itemKey.rule(r.stateKey);
        if (get<RuleItem>(key)) continue;
        const keys: Record<string, { lastMs: number; lastIndex: number | null; fired: boolean }> = {};
        if (r.absence) {
          const tracked = r.absence.key === undefined ? [''] : r.absence.expect;
          for (const k of tracked) keys[k] = { lastMs: atMs, lastIndex: null, fired: false };
        }
        put(key, {
          type: 'rule',
          startedAtMs: atMs,
          keys,
          nextDeadlineMs: r.absence && Object.keys(keys).length > 0 ? atMs + r.absence.forMs : NEVER,
          dropped: 0,
          expiresAtMs: NEVER,
        });
      }
    };

    // Log time moves to `to`: every silence that reached its `for` by then fires, once.
    const advance = (to: number) => {
      now = to;
      for (const r of this.#absence) {
        const key = itemKey.rule(r.stateKey);
        const item = get<RuleItem>(key) as RuleItem;
        if (!(to > item.nextDeadlineMs)) continue;
        const forMs = (r.absence as NonNullable<CompiledRule['absence']>).forMs;
        const keys = { ...item.keys };
        const due = Object.entries(keys)
          .filter(([, s]) => !s.fired && s.lastMs + forMs < to)
          .sort(([ka, a], [kb, b]) => a.lastMs - b.lastMs || (ka < kb ? -1 : ka > kb ? 1 : 0));
        for (const [k, s] of due) {
          keys[k] = { ...s, fired: true };
          const deadline = s.lastMs + forMs;
          emit({
            rule: r,
            key: k,
            dedupKey: undefined,
            firedAtMs: deadline,
            trigger: null,
            triggerId: `a:${k}:${s.lastMs}`,
            summary: `no matching record for ${formatDuration(forMs)}${k ? ` for ${k}` : ''} since ${isoMs(s.lastMs)}`,
            value: null,
            evidence: {
              fromMs: s.lastMs,
              toMs: deadline,
              indexes: s.lastIndex === null ? [] : [s.lastIndex],
            },
          });
        }
        let nextDeadline = NEVER;
        for (const [k, s] of Object.entries(keys)) {
          if (!s.fired) nextDeadline = Math.min(nextDeadline, s.lastMs + forMs);
          else if (s.lastMs + forMs + ABSENCE_FORGET_MS < to) delete keys[k];
        }
        put(key, { ...item, keys, nextDeadlineMs: nextDeadline });
      }
    };

    for (const ps of prepared.steps) {
      const step = ps.step;
      if (step.kind === 'tick') {
        if (step.atMs > now) {
          ensureRuleItems(step.atMs);
          advance(step.atMs);
        }
        continue;
      }
      const rec = step.record;
      const t = ps.timeMs;
      if (t < now) stats.late++;
      ensureRuleItems(Math.max(now, t));
      if (t > now) advance(t);
      const trigger = { index: rec.index, receivedAt: rec.receivedAt };
      for (const e of ps.evals) {
        const r = this.rules[e.rule] as CompiledRule;
        if (r.kind === 'match') {
          emit({
            rule: r,
            key: '',
            dedupKey: e.dedupKey,
            dedupItem: e.dedupItem,
            firedAtMs: t,
            trigger,
            triggerId: `r:${rec.index}`,
            summary: `${rec.event.action} by ${rec.event.actor.id} (${rec.event.outcome})`,
            value: null,
            evidence: { fromMs: t, toMs: t + 1, indexes: [rec.index] },
          });
        } else if (r.threshold) this.#threshold(r, e, rec.index, t, get, put, emit, trigger);
        else if (r.firstSeen) {
          const f = r.firstSeen;
          const key = e.item as string;
          const seen = get<SeenItem>(key);
          put(key, {
            type: 'seen',
            key: e.key,
            value: e.value as string,
            lastMs: t,
            expiresAtMs: t + f.lookbackMs,
          });
          if (seen) continue;
          const ruleItem = get<RuleItem>(itemKey.rule(r.stateKey)) as RuleItem;
          if (t < ruleItem.startedAtMs + f.learnMs) {
            (stats.rules[r.id] as RuleStats).learned++;
            continue;
          }
          emit({
            rule: r,
            key: e.key,
            dedupKey: e.dedupKey,
            dedupItem: e.dedupItem,
            firedAtMs: t,
            trigger,
            triggerId: `r:${rec.index}`,
            summary: `first ${e.value}${e.key ? ` for ${e.key}` : ''} in ${formatDuration(f.lookbackMs)}`,
            value: null,
            evidence: { fromMs: Math.max(0, t - f.lookbackMs), toMs: t + 1, indexes: [rec.index] },
          });
        } else if (r.requires) {
          const q = r.requires;
          const key = e.item as string;
          if (e.precursor) {
            put(key, { type: 'seen', key: e.key, value: '', lastMs: t, expiresAtMs: t + q.withinMs });
            continue;
          }
          if (get<SeenItem>(key)) continue;
          emit({
            rule: r,
            key: e.key,
            dedupKey: e.dedupKey,
            dedupItem: e.dedupItem,
            firedAtMs: t,
            trigger,
            triggerId: `r:${rec.index}`,
            summary: `${rec.event.action}${e.key ? ` for ${e.key}` : ''} with no precursor in ${formatDuration(q.withinMs)}`,
            value: null,
            evidence: { fromMs: Math.max(0, t - q.withinMs), toMs: t + 1, indexes: [rec.index] },
          });
        } else if (r.absence) {
          const key = itemKey.rule(r.stateKey);
          const item = get<RuleItem>(key) as RuleItem;
          const tracked = item.keys[e.key];
          if (tracked === undefined && Object.keys(item.keys).length >= MAX_ABSENCE_KEYS) {
            stats.absenceKeysDropped++;
            put(key, { ...item, dropped: item.dropped + 1 });
            continue;
          }
          put(key, {
            ...item,
            keys: { ...item.keys, [e.key]: { lastMs: t, lastIndex: rec.index, fired: false } },
            nextDeadlineMs: Math.min(item.nextDeadlineMs, t + r.absence.forMs),
          });
        }
      }
      nextIndex = rec.index + 1;
    }
    return {
      cursor: { logId: this.logId, nextIndex, watermarkMs: now, version: cursor.version + 1 },
      puts,
      outbox,
      stats,
    };
  }

  #threshold(
    r: CompiledRule,
    e: RuleEval,
    index: number,
    t: number,
    get: <T extends StateItem>(key: string) => T | undefined,
    put: (key: string, item: StateItem) => void,
    emit: (c: Candidate) => void,
    trigger: { index: number; receivedAt: string },
  ): void {
    const spec = r.threshold as NonNullable<CompiledRule['threshold']>;
    const key = e.item as string;
    const old = get<WindowItem>(key);
    const sliding = spec.windowType === 'sliding';
    const stepMs = sliding ? Math.max(1, Math.floor(spec.windowMs / SLIDING_STEPS)) : spec.windowMs;
    const b = Math.floor(t / stepMs);
    const firstBucket = sliding ? b - (SLIDING_STEPS - 1) : b;
    const windowStartMs = firstBucket * stepMs;
    let fired = old?.fired ?? false;
    const aggOf = (x: WindowBucket) => (spec.aggregate === 'sum' ? x.sum : x.count);
    // Baseline: windows that ended since the last record join the history (empty ones as 0).
    let history = old?.history ?? [];
    const base = spec.baseline;
    const prev = old?.buckets[0];
    if (base && prev !== undefined && prev.b < b) {
      const gap = Math.min(b - prev.b - 1, base.windows);
      history = [...history, aggOf(prev), ...Array<number>(gap).fill(0)].slice(-base.windows);
    }
    // Buckets are kept in ascending order, and a record is never in a bucket
    // before the last one (log time does not go back; a late record joins the
    // last bucket), so only the last bucket ever changes.
    const kept = old?.buckets ?? [];
    let from = 0;
    while (from < kept.length && (kept[from] as WindowBucket).b < firstBucket) from++;
    const buckets = from === 0 ? [...kept] : kept.slice(from);
    // A new tumbling window re-arms the trigger.
    if (!sliding && buckets.length === 0) fired = false;
    const cap = Math.floor(spec.value) + 1;
    const last = buckets[buckets.length - 1];
    const cur = last !== undefined && last.b >= b ? last : { b, count: 0, sum: 0, distinct: [] };
    const distinct =
      e.value !== undefined && cur.distinct.length < cap && !cur.distinct.includes(e.value)
        ? [...cur.distinct, e.value]
        : cur.distinct;
    const updated: WindowBucket = { b: cur.b, count: cur.count + 1, sum: cur.sum + (e.num ?? 0), distinct };
    if (cur === last) buckets[buckets.length - 1] = updated;
    else buckets.push(updated);
    let agg = 0;
    if (spec.aggregate === 'count') for (const x of buckets) agg += x.count;
    else if (spec.aggregate === 'sum') for (const x of buckets) agg += x.sum;
    else if (buckets.length === 1) agg = distinct.length;
    else agg = new Set(buckets.flatMap((x) => x.distinct)).size;
    let against = spec.value;
    let ready = true;
    if (base) {
      ready = history.length >= base.windows;
      const mean = history.reduce((n, x) => n + x, 0) / Math.max(1, history.length);
      against = Math.max(spec.value, base.factor * mean);
    }
    const holds = ready && (spec.op === '>' ? agg > against : agg >= against);
    const before = old?.recent ?? [];
    let skip = Math.max(0, before.length + 1 - EVIDENCE_INDEXES);
    while (skip < before.length && (before[skip] as readonly [number, number])[1] < windowStartMs) skip++;
    const recent = [...before.slice(skip), [index, t] as const];
    if (holds && !fired) {
      fired = true;
      emit({
        rule: r,
        key: e.key,
        dedupKey: e.dedupKey,
        dedupItem: e.dedupItem,
        firedAtMs: t,
        trigger,
        triggerId: `r:${index}`,
        summary: `${spec.aggregate} ${agg} ${spec.op} ${against}${base ? ` (${base.factor} × the mean of ${base.windows} windows, at least ${spec.value})` : ''} over ${formatDuration(spec.windowMs)} (${spec.windowType})${e.key ? ` for ${e.key}` : ''}`,
        value: agg,
        threshold: against,
        evidence: { fromMs: windowStartMs, toMs: t + 1, indexes: recent.map(([i]) => i) },
      });
    } else if (!holds && sliding) fired = false;
    put(key, {
      type: 'window',
      group: e.key,
      buckets,
      fired,
      recent,
      ...(base ? { history } : {}),
      // A baseline outlives its window by the history it keeps.
      expiresAtMs: sliding ? (b + SLIDING_STEPS) * stepMs : (b + 1 + (base?.windows ?? 0)) * stepMs,
    });
  }
}

/** One rule on one record: its match, then its kind's expressions. Undefined: no match, or an error (counted). */
function evaluateRule(
  r: CompiledRule,
  i: number,
  bindings: Bindings,
  s: RuleStats,
  verdict: Verdict,
): RuleEval | undefined {
  s.evaluated++;
  const m = decide(r.match, bindings, s, verdict);
  if (!m.ok) return fault(s, r.match, m.code, m.message, m.position, m.code === 'BUDGET_EXCEEDED');
  if (m.value !== true) {
    if (m.value !== false) fault(s, r.match, 'NOT_BOOL', 'match must evaluate to a bool', undefined, false);
    return;
  }
  s.matched++;
  // One RuleEval, built in place (this runs for every rule past its guards on every record).
  let key: string | undefined = '';
  let value: string | undefined;
  let num: number | undefined;
  let natural: string;
  if (r.threshold) {
    const t = r.threshold;
    key = keyOf(t.groupBy, bindings, s);
    if (key === undefined) return;
    if (t.aggregate === 'sum') {
      const f = t.field as CompiledExpression;
      const v = f.evaluate(bindings);
      if (!v.ok) return fault(s, f, v.code, v.message, v.position, v.code === 'BUDGET_EXCEEDED');
      num = numberOf(v.value);
      if (num === undefined)
        return fault(s, f, 'NOT_A_NUMBER', 'must evaluate to a finite number', undefined, false);
    } else if (t.aggregate === 'distinct') {
      value = keyOf(t.field, bindings, s);
      if (value === undefined) return;
    }
    natural = key;
  } else if (r.firstSeen) {
    key = keyOf(r.firstSeen.key, bindings, s);
    if (key === undefined) return;
    value = keyOf(r.firstSeen.value, bindings, s);
    if (value === undefined) return;
    natural = `${key}\u0000${value}`;
  } else if (r.requires || r.absence) {
    key = keyOf((r.requires ?? r.absence)?.key, bindings, s);
    if (key === undefined) return;
    natural = key;
  } else natural = '';
  let dedupKey: string | undefined;
  if (r.dedup) {
    dedupKey = r.dedup.key === undefined ? natural : keyOf(r.dedup.key, bindings, s);
    if (dedupKey === undefined) return;
  }
  const out: RuleEval = { rule: i, key };
  if (value !== undefined) out.value = value;
  if (num !== undefined) out.num = num;
  if (dedupKey !== undefined) out.dedupKey = dedupKey;
  return out;
}

/** A key expression's value as a key string ('' without one); undefined on an error (counted). */
function keyOf(e: CompiledExpression | undefined, bindings: Bindings, s: RuleStats): string | undefined {
  if (e === undefined) return '';
  const v = e.evaluate(bindings);
  if (!v.ok) return fault(s, e, v.code, v.message, v.position, v.code === 'BUDGET_EXCEEDED');
  const k = keyString(v.value);
  if (k === undefined)
    return fault(s, e, 'NOT_A_KEY', 'must evaluate to a string, number or bool', undefined, false);
  if (k.length > KEY_MAX_CHARS)
    return fault(s, e, 'KEY_TOO_LONG', `key longer than ${KEY_MAX_CHARS}`, undefined, false);
  return k;
}

/** A `requires` rule's precursor on one record: its key when the record is one. */
function evaluatePrecursor(
  q: NonNullable<CompiledRule['requires']>,
  i: number,
  bindings: Bindings,
  s: RuleStats,
  verdict: Verdict,
): RuleEval | undefined {
  s.evaluated++;
  const m = decide(q.precursor, bindings, s, verdict);
  if (!m.ok) return fault(s, q.precursor, m.code, m.message, m.position, m.code === 'BUDGET_EXCEEDED');
  if (m.value !== true) {
    if (m.value !== false)
      fault(s, q.precursor, 'NOT_BOOL', 'precursor must evaluate to a bool', undefined, false);
    return undefined;
  }
  if (q.precursorKey === undefined) return { rule: i, key: '', precursor: true };
  const v = q.precursorKey.evaluate(bindings);
  if (!v.ok) return fault(s, q.precursorKey, v.code, v.message, v.position, v.code === 'BUDGET_EXCEEDED');
  const k = keyString(v.value);
  if (k === undefined || k.length > KEY_MAX_CHARS)
    return fault(
      s,
      q.precursorKey,
      'NOT_A_KEY',
      'must evaluate to a string, number or bool',
      undefined,
      false,
    );
  return { rule: i, key: k, precursor: true };
}

function emptyStats(rules: readonly CompiledRule[]): ChunkStats {
  const out: Record<string, RuleStats> = {};
  for (const r of rules)
    out[r.id] = {
      evaluated: 0,
      cel: 0,
      matched: 0,
      errors: 0,
      budgetExceeded: 0,
      alerts: 0,
      occurrences: 0,
      suppressed: 0,
      learned: 0,
    };
  return { records: 0, ticks: 0, skipped: 0, late: 0, absenceKeysDropped: 0, rules: out };
}

/** Counts an expression error against the rule (the record does not count for it); returns undefined. */
function fault(
  s: RuleStats,
  e: CompiledExpression,
  code: string,
  message: string,
  position: ExpressionPosition | undefined,
  budget: boolean,
): undefined {
  s.errors++;
  if (budget) s.budgetExceeded++;
  s.firstError ??= { path: e.path, code, message, position };
  return undefined;
}
