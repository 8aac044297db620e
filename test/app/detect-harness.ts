/**
 * Shared set-up for the detection job tests: the seal tests' environment
 * (real DynamoDB and S3 on the emulator, real ingest, real sealer; every
 * client behind one SendFaultInjector) plus the detection state store, a
 * static rule source and a recording metrics sink, and an in-memory
 * reference evaluation to compare the job's outbox with.
 */
import { DynamoDetectionStateStore } from '../../src/adapters/aws/dynamo-detection-state.ts';
import { MemoryDetectionStateStore } from '../../src/adapters/memory/detection-state.ts';
import { MemoryMetricsSink } from '../../src/adapters/memory/metrics.ts';
import { StaticRuleSource } from '../../src/adapters/memory/rule-source.ts';
import { DetectionService, type DetectionServiceOptions } from '../../src/app/detect.ts';
import { runDetection } from '../../src/app/detection.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { loadRule } from '../../src/core/detect/compile.ts';
import { DetectionEngine, type Step } from '../../src/core/detect/engine.ts';
import { decodeRecord } from '../../src/core/record.ts';
import type { DetectionStateStore, OutboxRecord } from '../../src/ports/detection-state.ts';
import { allRecords, type Env, localSigner, makeEnv, sealer, TABLE } from './seal-harness.ts';

export interface DetectEnv extends Env {
  detection: DynamoDetectionStateStore;
  metrics: MemoryMetricsSink;
}

export function makeDetectEnv(): DetectEnv {
  const env = makeEnv();
  return {
    ...env,
    detection: new DynamoDetectionStateStore({ client: env.ddb, tableName: TABLE, clock: env.clock }),
    metrics: new MemoryMetricsSink(),
  };
}

export function detector(
  env: DetectEnv,
  rules: readonly unknown[],
  extra: Partial<DetectionServiceOptions> = {},
): DetectionService {
  return new DetectionService({
    logs: env.logs,
    sealState: env.state,
    state: env.detection,
    rules: new StaticRuleSource(rules),
    clock: env.clock,
    metrics: env.metrics,
    ...extra,
  });
}

export async function seal(env: Env, logId: string): Promise<number> {
  return (await sealer(env, localSigner).sealLog(logId)).size;
}

export interface Ev {
  action?: string;
  actor?: string;
  target?: string;
  metadata?: Record<string, unknown>;
}

/** Appends `events` as one batch at the env clock (advanced by `stepMs` first). */
export async function append(env: Env, logId: string, events: readonly Ev[], stepMs = 1): Promise<void> {
  env.clock.t += stepMs;
  const body = {
    events: events.map((e) => ({
      occurredAt: '2026-03-01T12:00:00.000Z',
      actor: { type: 'agent', id: e.actor ?? 'agent-1' },
      action: e.action ?? 'tool.call',
      outcome: 'success',
      ...(e.target ? { target: { type: 'tool', id: e.target } } : {}),
      ...(e.metadata ? { metadata: e.metadata } : {}),
    })),
  };
  await env.ingest.append({ logId, submitter: 'svc-test', body: utf8(JSON.stringify(body)) });
}

/** Every outbox record of a log not yet acknowledged, in order. */
export async function outbox(store: DetectionStateStore, logId: string): Promise<OutboxRecord[]> {
  const out: OutboxRecord[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.readOutbox(logId, { limit: 1000, ...(after ? { after } : {}) });
    out.push(...page.records);
    if (!page.next) return out;
    after = page.next;
  }
}

/**
 * The reference: the log's first `size` records evaluated in memory in one
 * go (one process, no crash, no store between chunks other than memory),
 * in chunks of `chunkRecords`, from record 0.
 */
export async function reference(
  env: Env,
  logId: string,
  rules: readonly unknown[],
  size: number,
  chunkRecords = 1000,
) {
  const steps: Step[] = (await allRecords(env, logId))
    .slice(0, size)
    .map((b) => ({ kind: 'record', record: decodeRecord(b) }));
  const store = new MemoryDetectionStateStore();
  await runDetection(
    store,
    new DetectionEngine(
      logId,
      rules.map((r) => loadRule(r)),
    ),
    steps,
    { chunkRecords },
  );
  return store.outbox(logId);
}

export function ruleDoc(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    schema: 'anchorlog.rule/v1',
    id: 'test.rule',
    version: 1,
    title: 'Test rule',
    severity: 'medium',
    owner: 'secops',
    runbook: 'https://runbooks.example/test',
    match: 'true',
    kind: 'match',
    ...overrides,
  };
}
