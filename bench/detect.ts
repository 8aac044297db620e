/**
 * Detection benchmark (npm run bench:detect [records]): 100 rules of every
 * kind over a synthetic AI-platform stream, through the real engine and the
 * evaluation loop over the in-memory state store (docs/detection.md).
 *
 *  - throughput: the whole stream in chunks of 1,000 records (as the job will
 *    run), events per second of wall time and per CPU-second (one thread: the
 *    engine is synchronous, so CPU-seconds are core-seconds);
 *  - latency: 20,000 more records one chunk each (cursor read, prepare, item
 *    read, apply, commit per record), p50 / p99 / max per record;
 *  - memory: heap and RSS after the run, and the state items kept.
 *
 * The rules: the 8 rules of the AI-platform pack (rules/ai-platform) and 92
 * generated ones spread over the stream's actions like a real rule set —
 * 30 match, 20 threshold (count/sum/distinct, sliding and tumbling), 10
 * threshold with a baseline, 12 first_seen, 10 absence, 10 requires — 8 of
 * them with no guard on event.action, so the action index cannot skip them.
 *
 * Writes bench/results/detect.json and prints a table.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { MemoryDetectionStateStore } from '../src/adapters/memory/detection-state.ts';
import { runDetection } from '../src/app/detection.ts';
import { type CompiledRule, checkRuleSet, loadRule } from '../src/core/detect/compile.ts';
import { type ChunkStats, DetectionEngine, type Step } from '../src/core/detect/engine.ts';
import type { AuditEvent } from '../src/core/event.ts';
import { type LogRecord, ZERO_HASH_B64 } from '../src/core/record.ts';
import { load, machine } from './machine.ts';

const RECORDS = Number(process.argv[2] ?? 200_000);
const LATENCY_RECORDS = Number(process.argv[3] ?? 20_000);
const WARMUP = 20_000;
const CHUNK = 1000;
const TARGET = 20_000;
const T0 = Date.parse('2026-03-02T08:00:00.000Z');

// --- the stream -----------------------------------------------------------

/** Deterministic PRNG (mulberry32): the same stream every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Actions and their share of the stream. */
const MIX: Array<[string, number]> = [
  ['tool.call', 30],
  ['model.invoke', 20],
  ['agent.task.submit', 8],
  ['agent.task.complete', 8],
  ['data.read', 8],
  ['data.export', 4],
  ['guardrail.prompt', 5],
  ['guardrail.output', 3],
  ['heartbeat', 4],
  ['memory.write', 3],
  ['memory.read', 3],
  ['access.grant', 1],
  ['access.revoke', 1],
  ['budget.threshold.breach', 1],
  ['workflow.approve', 1],
  ['config.update', 1],
  ['secret.read', 1],
  ['session.start', 1],
  ['session.end', 1],
];
const ACTIONS = MIX.map(([a]) => a);
/** The actions of at most 1% of the stream each (what "requires" rules guard in practice). */
const RARE = MIX.filter(([, w]) => w <= 1).map(([a]) => a);

/**
 * The synthetic stream, generated a chunk at a time (as the job reads a chunk
 * at a time), so the benchmark's heap holds the rules' state, not the stream.
 */
class Stream {
  readonly #r: () => number;
  readonly #total = MIX.reduce((n, [, w]) => n + w, 0);
  #t: number;
  #index = 0;
  constructor(startMs: number, seed: number) {
    this.#r = rng(seed);
    this.#t = startMs;
  }

  #pick(): string {
    let x = this.#r() * this.#total;
    for (const [a, w] of MIX) {
      x -= w;
      if (x < 0) return a;
    }
    return 'tool.call';
  }

  next(n: number): LogRecord[] {
    const r = this.#r;
    const out: LogRecord[] = [];
    for (let i = 0; i < n; i++) {
      this.#t += Math.floor(r() * 3); // ~1,000 records per second of log time
      const t = this.#t;
      const action = this.#pick();
      const agent = `agent-${Math.floor(r() * 500)}`;
      const human = r() < 0.15;
      const event: AuditEvent = {
        occurredAt: new Date(t).toISOString(),
        actor: human ? { type: 'human', id: `u-${Math.floor(r() * 80)}` } : { type: 'agent', id: agent },
        action,
        outcome: r() < 0.06 ? 'denied' : r() < 0.03 ? 'failure' : 'success',
        target:
          action === 'tool.call'
            ? { type: 'tool', id: `tool-${Math.floor(r() ** 2 * 60)}` }
            : action === 'workflow.approve'
              ? { type: 'workflow', id: `wf-${Math.floor(r() * 200)}` }
              : { type: 'resource', id: `res-${Math.floor(r() * 5000)}` },
        metadata: {
          tokens: Math.floor(r() * 20_000),
          bytes: Math.floor(r() * 50_000_000),
          model: `model-${Math.floor(r() * 8)}`,
          workflowId: `wf-${Math.floor(r() * 220)}`,
          privileged: r() < 0.3,
          grantorRoles: r() < 0.8 ? ['admin'] : ['support'],
          tags: ['prod', r() < 0.5 ? 'eu' : 'us'],
        },
      };
      out.push({
        v: 1,
        logId: 'bench',
        index: this.#index++,
        receivedAt: new Date(t).toISOString(),
        submitter: `svc-${Math.floor(r() * 20)}`,
        prev: ZERO_HASH_B64,
        event,
      });
    }
    return out;
  }
}

// --- the rules ------------------------------------------------------------

function buildRules(): CompiledRule[] {
  const packDir = new URL('../rules/ai-platform/', import.meta.url);
  const pack = readdirSync(packDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => loadRule(readFileSync(new URL(f, packDir))));
  const docs: Record<string, unknown>[] = [];
  const base = (id: string, match: string, rest: Record<string, unknown>) => ({
    schema: 'anchorlog.rule/v1',
    id,
    version: 1,
    title: id,
    severity: 'medium',
    owner: 'bench',
    runbook: 'https://runbooks.example/bench',
    match,
    ...rest,
  });
  const act = (i: number) => ACTIONS[i % ACTIONS.length] as string;
  for (let i = 0; i < 30; i++) {
    // 6 of them without an action conjunct: they run on every record.
    const match =
      i < 6
        ? `event.actor.type == 'human' && event.outcome == 'denied' && event.metadata.bytes < ${200_000 * (i + 1)}`
        : i % 3 === 0
          ? `event.action.startsWith('${act(i).split('.')[0]}.') && event.metadata.tokens > ${19_980 + i}`
          : i % 3 === 1
            ? `event.action in ['${act(i)}', '${act(i + 5)}'] && event.outcome == 'denied' && 'prod' in event.metadata.tags && event.metadata.bytes < 100000`
            : `event.action == '${act(i)}' && has(event.target) && event.target.id.endsWith('${i % 10}77')`;
    docs.push(
      base(`bench.match.${i}`, match, { kind: 'match', dedup: { window: '10m', key: 'event.actor.id' } }),
    );
  }
  for (let i = 0; i < 20; i++) {
    const aggregate = (['count', 'sum', 'distinct'] as const)[i % 3];
    const match = i < 2 ? "event.outcome == 'failure'" : `event.action == '${act(i)}'`;
    docs.push(
      base(`bench.threshold.${i}`, match, {
        kind: 'threshold',
        threshold: {
          aggregate,
          ...(aggregate === 'sum' ? { field: 'event.metadata.tokens' } : {}),
          ...(aggregate === 'distinct' ? { field: 'event.target.id' } : {}),
          groupBy: i % 4 === 0 ? 'submitter' : 'event.actor.id',
          window: i % 2 === 0 ? '5m' : '1h',
          windowType: i % 2 === 0 ? 'sliding' : 'tumbling',
          op: '>',
          value: aggregate === 'sum' ? 2_000_000 : 100,
        },
      }),
    );
  }
  for (let i = 0; i < 10; i++)
    docs.push(
      base(`bench.baseline.${i}`, `event.action == '${act(i + 3)}' && event.actor.type == 'agent'`, {
        kind: 'threshold',
        threshold: {
          aggregate: 'count',
          groupBy: 'event.actor.id',
          window: '1m',
          windowType: 'tumbling',
          op: '>',
          value: 20,
          baseline: { windows: 10, factor: 4 },
        },
      }),
    );
  for (let i = 0; i < 12; i++)
    docs.push(
      base(`bench.first.${i}`, `event.action == '${act(i)}' && has(event.target)`, {
        kind: 'first_seen',
        first_seen: {
          value: i % 2 === 0 ? 'event.target.id' : 'event.metadata.model',
          key: 'event.actor.id',
          lookback: '30d',
          learn: '1h',
        },
      }),
    );
  for (let i = 0; i < 10; i++)
    docs.push(
      base(`bench.absence.${i}`, `event.action == '${act(i + 8)}'`, {
        kind: 'absence',
        absence: { for: `${5 + i}m`, key: 'submitter' },
      }),
    );
  for (let i = 0; i < 10; i++)
    docs.push(
      base(`bench.requires.${i}`, `event.action == '${RARE[i % RARE.length]}'`, {
        kind: 'requires',
        requires: {
          precursor: "event.action == 'workflow.approve'",
          key: 'event.metadata.workflowId',
          precursorKey: 'event.target.id',
          within: '1d',
        },
        dedup: { window: '1h' },
      }),
    );
  const rules = [...pack, ...docs.map((d) => loadRule(d))];
  checkRuleSet(rules);
  if (rules.length !== 100) throw new Error(`expected 100 rules, built ${rules.length}`);
  return rules;
}

// --- the run --------------------------------------------------------------

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
const steps = (records: LogRecord[]): Step[] => records.map((record) => ({ kind: 'record', record }));

async function main(): Promise<void> {
  const loadBefore = load();
  const rules = buildRules();
  const kinds: Record<string, number> = {};
  for (const r of rules) kinds[r.kind] = (kinds[r.kind] ?? 0) + 1;
  const unfiltered = rules.filter(
    (r) => !r.match.guards.some((g) => g.path.join('.') === 'event.action'),
  ).length;

  const stream = new Stream(T0, 13);
  // The engine's cost, not the test double's: no deep-freeze of every committed item.
  const store = new MemoryDetectionStateStore({ freezeItems: false });
  const engine = new DetectionEngine('bench', rules);
  for (let done = 0; done < WARMUP; done += CHUNK)
    await runDetection(store, engine, steps(stream.next(Math.min(CHUNK, WARMUP - done))));
  const heapBefore = process.memoryUsage().heapUsed;

  // Throughput: chunk by chunk, timing only the evaluation (not making the records).
  const phaseMs: Record<string, number> = { prepare: 0, readItems: 0, apply: 0, commit: 0 };
  const names: Record<string, string> = {
    prepared: 'prepare',
    'read-items': 'readItems',
    applied: 'apply',
    committed: 'commit',
  };
  let wallMs = 0;
  let cpuMs = 0;
  const allStats: ChunkStats[] = [];
  let nextIndex = 0;
  for (let done = 0; done < RECORDS; done += CHUNK) {
    const chunk = steps(stream.next(Math.min(CHUNK, RECORDS - done)));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let mark = t0;
    const res = await runDetection(store, engine, chunk, {
      chunkRecords: CHUNK,
      afterPhase: (phase) => {
        const now = performance.now();
        const name = names[phase];
        if (name !== undefined) phaseMs[name] = (phaseMs[name] ?? 0) + (now - mark);
        mark = now;
      },
    });
    wallMs += performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    cpuMs += (cpu.user + cpu.system) / 1000;
    if (res.lostRace) throw new Error('lost race');
    allStats.push(...res.stats);
    nextIndex = res.cursor.nextIndex;
  }
  const res = { stats: allStats };

  if (nextIndex !== WARMUP + RECORDS) throw new Error('the run did not finish');
  const heapAfter = process.memoryUsage().heapUsed;

  const totals = { evaluated: 0, cel: 0, matched: 0, errors: 0, alerts: 0, occurrences: 0, suppressed: 0 };
  const perRule = new Map<string, number>();
  for (const s of res.stats as ChunkStats[])
    for (const [id, r] of Object.entries(s.rules)) {
      perRule.set(id, (perRule.get(id) ?? 0) + r.alerts + r.occurrences);
      totals.evaluated += r.evaluated;
      totals.cel += r.cel;
      totals.matched += r.matched;
      totals.errors += r.errors;
      totals.alerts += r.alerts;
      totals.occurrences += r.occurrences;
      totals.suppressed += r.suppressed;
    }

  // Latency: one record per chunk, the whole loop.
  const lat: number[] = [];
  for (let i = 0; i < LATENCY_RECORDS; i++) {
    const one = steps(stream.next(1));
    const s = performance.now();
    await runDetection(store, engine, one, { chunkRecords: 1 });
    lat.push(performance.now() - s);
  }
  lat.sort((a, b) => a - b);

  const mem = process.memoryUsage();
  const wallRate = Math.round((RECORDS / wallMs) * 1000);
  const cpuRate = Math.round((RECORDS / cpuMs) * 1000);
  const result = {
    date: new Date().toISOString(),
    machine: machine(),
    loadBefore,
    loadAfter: load(),
    rules: { total: rules.length, kinds, withoutActionGuard: unfiltered },
    records: RECORDS,
    chunkRecords: CHUNK,
    throughput: {
      wallMs: Math.round(wallMs),
      cpuMs: Math.round(cpuMs),
      eventsPerSecondWall: wallRate,
      eventsPerCpuSecond: cpuRate,
      target: TARGET,
      meetsTarget: cpuRate >= TARGET,
    },
    busiestRules: [...perRule].sort((a, b) => b[1] - a[1]).slice(0, 10),
    phaseMicrosPerRecord: Object.fromEntries(
      Object.entries(phaseMs).map(([k, v]) => [k, +((v * 1000) / RECORDS).toFixed(1)]),
    ),
    perRecord: {
      rulesPastGuards: +(totals.evaluated / RECORDS).toFixed(2),
      celEvaluations: +(totals.cel / RECORDS).toFixed(2),
      matches: +(totals.matched / RECORDS).toFixed(2),
      outboxEntries: totals.alerts + totals.occurrences + totals.suppressed,
      alerts: totals.alerts,
      errors: totals.errors,
    },
    latencyMs: {
      records: lat.length,
      p50: +quantile(lat, 0.5).toFixed(3),
      p99: +quantile(lat, 0.99).toFixed(3),
      max: +(lat.at(-1) ?? 0).toFixed(3),
    },
    memory: {
      heapUsedMiB: +(mem.heapUsed / 2 ** 20).toFixed(1),
      heapGrowthDuringRunMiB: +((heapAfter - heapBefore) / 2 ** 20).toFixed(1),
      rssMiB: +(mem.rss / 2 ** 20).toFixed(1),
      stateItems: store.itemCount('bench'),
    },
  };

  const rows: Array<[string, string]> = [
    [
      'rules',
      `${rules.length} (${Object.entries(kinds)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ')}; ${unfiltered} without a guard on event.action)`,
    ],
    ['records', `${RECORDS} in chunks of ${CHUNK} (after ${WARMUP} warm-up)`],
    [
      'events/s per core (CPU time)',
      `${cpuRate} (target ${TARGET}: ${cpuRate >= TARGET ? 'met' : 'NOT met'})`,
    ],
    ['events/s (wall)', String(wallRate)],
    [
      'rules past their guards / CEL evaluations, per record',
      `${result.perRecord.rulesPastGuards} / ${result.perRecord.celEvaluations}`,
    ],
    [
      'µs per record: prepare / read / apply / commit',
      Object.values(result.phaseMicrosPerRecord).join(' / '),
    ],
    ['alerts / outbox entries', `${totals.alerts} / ${result.perRecord.outboxEntries}`],
    ['expression errors', String(totals.errors)],
    [
      'latency per record, chunk of 1 (p50 / p99 / max)',
      `${result.latencyMs.p50} / ${result.latencyMs.p99} / ${result.latencyMs.max} ms`,
    ],
    [
      'heap used / RSS (growth during the run)',
      `${result.memory.heapUsedMiB} / ${result.memory.rssMiB} MiB (+${result.memory.heapGrowthDuringRunMiB} MiB)`,
    ],
    ['state items', String(result.memory.stateItems)],
    ['load average before / after', `${loadBefore.join(' ')} / ${result.loadAfter.join(' ')}`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  console.log(`| ${'measure'.padEnd(w)} | value |`);
  console.log(`| ${'-'.repeat(w)} | ----- |`);
  for (const [k, v] of rows) console.log(`| ${k.padEnd(w)} | ${v} |`);
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/detect.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
  console.log('\nwrote bench/results/detect.json');
}

await main();
