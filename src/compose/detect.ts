/**
 * The detection job (docs/detection.md "Evaluation"): after every seal run,
 * each log's newly sealed records are evaluated against the enabled rules,
 * and what fires waits in the outbox (DynamoDB `D#<logId>`) for delivery. It
 * reads the log's batches and seal state and writes only its own items; it
 * never signs and touches no archive object.
 *
 * Rules come from a RuleSource: until the rule store serves them, a static
 * one from the configuration (built-in packs by name, rule documents),
 * validated here, at cold start.
 */
import { DynamoDetectionStateStore } from '../adapters/aws/dynamo-detection-state.ts';
import { DynamoSealStateStore } from '../adapters/aws/dynamo-seal-state-store.ts';
import { StaticRuleSource } from '../adapters/memory/rule-source.ts';
import { DetectionService, type DetectOutcome } from '../app/detect.ts';
import { type AppConfig, ConfigError } from '../config.ts';
import { RuleError } from '../core/detect/errors.ts';
import { type EachLogOutcome, eachLog, type ScheduledJob } from '../jobs/scheduled-job.ts';
import type { MetricsSink } from '../ports/metrics.ts';
import type { RuleSource } from '../ports/rule-source.ts';
import { emfMetrics } from './metrics.ts';
import { BUILTIN_RULE_PACKS } from './rule-packs.ts';
import type { Services } from './services.ts';

export type DetectJobOutcome = EachLogOutcome<DetectOutcome>;
export interface DetectJobSummary {
  logs: number;
  records: number;
  alerts: number;
}

export interface DetectJobOptions {
  /** Default: EMF lines on stdout. */
  readonly metrics?: MetricsSink;
  /** Default: staticRuleSource(config). */
  readonly rules?: RuleSource;
}

/**
 * Stop starting chunks this long before the Lambda timeout (at most a third
 * of it): one chunk — ≤ 1,000 records read, evaluated and committed — must fit.
 */
const DETECT_SAFETY_MS = 10_000;

/**
 * The rules of ANCHORLOG_DETECTION_PACKS and ANCHORLOG_DETECTION_RULES, in
 * that order. An unknown pack or an invalid rule is a ConfigError that names
 * it (with the RuleError's code, field and position).
 */
export function staticRuleSource(config: Pick<AppConfig, 'detection'>): StaticRuleSource {
  const packs = config.detection?.packs ?? [];
  const docs: unknown[] = [];
  for (const name of packs) {
    const pack = BUILTIN_RULE_PACKS[name];
    if (!pack)
      throw new ConfigError(
        `ANCHORLOG_DETECTION_PACKS names ${name}, which is not a built-in pack (${Object.keys(BUILTIN_RULE_PACKS).join(', ') || 'there are none'})`,
      );
    docs.push(...pack());
  }
  docs.push(...(config.detection?.rules ?? []));
  try {
    return new StaticRuleSource(docs);
  } catch (err) {
    if (err instanceof RuleError)
      throw new ConfigError(
        `a rule of ANCHORLOG_DETECTION_PACKS / ANCHORLOG_DETECTION_RULES is invalid: ${err.code} ${err.message}`,
      );
    throw err;
  }
}

export function createDetectionService(
  services: Pick<Services, 'config' | 'clients' | 'clock' | 'logStore'>,
  opts: DetectJobOptions = {},
): DetectionService {
  const { config, clients, clock, logStore } = services;
  return new DetectionService({
    logs: logStore,
    sealState: new DynamoSealStateStore({ client: clients.ddb, tableName: config.tableName }),
    state: new DynamoDetectionStateStore({ client: clients.ddb, tableName: config.tableName, clock }),
    rules: opts.rules ?? staticRuleSource(config),
    clock,
    metrics: opts.metrics ?? emfMetrics(),
  });
}

/** The detection job over every log (or the logs the trigger names), until the deadline. */
export function detectJob(
  services: Pick<Services, 'config' | 'clients' | 'clock' | 'logStore'>,
  opts: DetectJobOptions = {},
): ScheduledJob<DetectJobOutcome, DetectJobSummary> {
  const detection = createDetectionService(services, opts);
  const { clock, logStore } = services;
  return {
    name: 'detect',
    clock,
    safetyMs: DETECT_SAFETY_MS,
    listLogs: () => logStore.listLogs(),
    run: (logIds, deadlineMs) =>
      eachLog(logIds, deadlineMs, clock, (logId) => detection.detectLog(logId, deadlineMs)),
    notable: (o) => o.ok && (o.records > 0 || o.alerts > 0 || o.more || o.invalidRules.length > 0),
    summarize: (outcomes) => ({
      logs: outcomes.length,
      records: outcomes.reduce((n, o) => n + (o.ok ? o.records : 0), 0),
      alerts: outcomes.reduce((n, o) => n + (o.ok ? o.alerts : 0), 0),
    }),
  };
}
