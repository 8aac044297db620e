/**
 * The delivery job (docs/detection.md "Delivery"): detection's outbox, per
 * log → an `alert.*` event in the `system` log → the alert's destinations
 * (signed webhooks, Slack, PagerDuty, the SNS topic) → acknowledged.
 *
 * Its own function, run right after each detection run (the detect
 * function's asynchronous-invocation destination, as detect is seal's) and
 * on a schedule as a safety net, rather than inside the detection run:
 *  - privileges: delivery appends to the `system` log, publishes to SNS,
 *    reads the destinations' secrets and talks to the Internet; detection
 *    reads records and writes its own state only, and keeps it that way;
 *  - isolation: a destination that hangs (up to its timeout, for every alert)
 *    cannot eat the time detection has for the next log, and a failing one
 *    never holds back evaluation;
 *  - latency is the same: the chain seal → detect → deliver starts each next
 *    step as soon as the previous one ends.
 * Two triggers may overlap; the per-log lease keeps them from sending the
 * same alert twice.
 *
 * The function also answers operators (docs/operations.md "Dead letters"):
 * `{"deadLetters": {"list": {…}}}` and `{"deadLetters": {"redrive": […] | "all"}}`.
 */
import type { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDeliveryStore } from '../adapters/aws/dynamo-delivery-store.ts';
import { DynamoDetectionStateStore } from '../adapters/aws/dynamo-detection-state.ts';
import { DynamoHealthOutbox } from '../adapters/aws/dynamo-health-outbox.ts';
import { SnsNotifier } from '../adapters/aws/sns-notifier.ts';
import { HttpNotifier } from '../adapters/notify/http-notifier.ts';
import { SystemLogAuditReader, SystemLogAuditSink } from '../app/admin-audit.ts';
import {
  type DeliverOutcome,
  DeliveryService,
  type DeliveryServiceOptions,
  type RedriveOutcome,
} from '../app/deliver.ts';
import { recordHealthObservations } from '../app/health.ts';
import { type AlertDestination, type AppConfig, loadAlertDestinations } from '../config.ts';
import { EMPTY_ROUTING } from '../core/deliver/destinations.ts';
import type { DeadLetter } from '../core/deliver/progress.ts';
import { AnchorlogError } from '../core/errors.ts';
import { SYSTEM_LOG_ID } from '../core/principal.ts';
import { type EachLogOutcome, eachLog, type JobContext, type ScheduledJob } from '../jobs/scheduled-job.ts';
import { systemSleep } from '../ports/clock.ts';
import type { DeadLetterPage } from '../ports/delivery-store.ts';
import type { MetricsSink } from '../ports/metrics.ts';
import type { Notifier } from '../ports/notifier.ts';
import type { SecretSource } from '../ports/secret-source.ts';
import { createAlertReviewService, dynamoAlertReviewStore } from './alerts.ts';
import { createSecretSource, createSnsClient } from './aws.ts';
import { emfMetrics } from './metrics.ts';
import type { Services } from './services.ts';

export type DeliverJobOutcome = EachLogOutcome<DeliverOutcome>;
export interface DeliverJobSummary {
  logs: number;
  /** Health observations recorded in the system log this run (src/app/health.ts). */
  healthRecorded: number;
  delivered: number;
  deadLettered: number;
  pending: number;
}

export interface DeliverJobOptions {
  /** Default: EMF lines on stdout. */
  readonly metrics?: MetricsSink;
  /** Where destination secrets are read (default Secrets Manager). */
  readonly secrets?: SecretSource;
  /** Per HTTP/SNS attempt (default 10 s). */
  readonly timeoutMs?: number;
  readonly retry?: DeliveryServiceOptions['retry'];
  readonly maxInRunWaitMs?: number;
}

type DeliverServices = Pick<Services, 'config' | 'clients' | 'clock' | 'logStore' | 'ingest' | 'logRegistry'>;

/** Stop starting deliveries this long before the Lambda timeout: one attempt (its timeout) and the writes after it must fit. */
const DELIVER_SAFETY_MS = 20_000;

/** One notifier per configured destination; the SNS client only when a destination needs it. */
export function createNotifiers(
  config: AppConfig,
  destinations: readonly AlertDestination[],
  clock: Services['clock'],
  opts: { timeoutMs?: number } = {},
): Map<string, Notifier> {
  let sns: SNSClient | undefined;
  const timeout = opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {};
  const out = new Map<string, Notifier>();
  for (const d of destinations) {
    switch (d.kind) {
      case 'sns':
        sns ??= createSnsClient(config);
        out.set(d.name, new SnsNotifier({ name: d.name, topicArn: d.topicArn, client: sns, ...timeout }));
        break;
      case 'webhook':
        out.set(
          d.name,
          new HttpNotifier({ name: d.name, kind: 'webhook', url: d.url, keys: d.keys, clock, ...timeout }),
        );
        break;
      case 'slack':
        out.set(d.name, new HttpNotifier({ name: d.name, kind: 'slack', url: d.url, clock, ...timeout }));
        break;
      case 'pagerduty':
        out.set(
          d.name,
          new HttpNotifier({
            name: d.name,
            kind: 'pagerduty',
            url: d.url,
            routingKey: d.routingKey,
            clock,
            ...timeout,
          }),
        );
        break;
    }
  }
  return out;
}

/** The delivery use case over the table, with the destinations' secrets read (once, here). */
export async function createDeliveryService(
  services: DeliverServices,
  opts: DeliverJobOptions = {},
): Promise<DeliveryService> {
  const { config, clients, clock, logStore, ingest, logRegistry } = services;
  const auditLog = new SystemLogAuditReader(logStore);
  const audit = new SystemLogAuditSink(logRegistry, ingest, auditLog);
  const destinations = await loadAlertDestinations(config, opts.secrets ?? createSecretSource(config));
  return new DeliveryService({
    outbox: new DynamoDetectionStateStore({ client: clients.ddb, tableName: config.tableName, clock }),
    store: new DynamoDeliveryStore({ client: clients.ddb, tableName: config.tableName }),
    audit,
    // Each recorded alert is opened for review (`AR#`, which the deliver role may write).
    alerts: createAlertReviewService({
      store: dynamoAlertReviewStore(config, clients),
      audit,
      auditLog,
      logs: logStore,
      clock,
    }),
    routing: config.alertRouting ?? EMPTY_ROUTING,
    notifiers: createNotifiers(config, destinations, clock, opts),
    clock,
    sleep: systemSleep,
    random: Math.random,
    metrics: opts.metrics ?? emfMetrics(),
    ...(opts.retry ? { retry: opts.retry } : {}),
    ...(opts.maxInRunWaitMs !== undefined ? { maxInRunWaitMs: opts.maxInRunWaitMs } : {}),
  });
}

/**
 * The delivery job over every log's outbox (or the logs the trigger names), until the deadline.
 * Each run first records the pending health observations of the seal and anchor jobs in the
 * system log (src/app/health.ts): this function already appends alerts there, and they may
 * not. A failure to record them is reported as a failed outcome of the `system` log, so the
 * invocation fails and DeliverFailing alarms; the observations stay pending for the next run.
 */
export function deliverJob(
  services: DeliverServices,
  delivery: DeliveryService,
): ScheduledJob<DeliverJobOutcome, DeliverJobSummary> {
  const { clock, logStore, config, clients, ingest, logRegistry } = services;
  const systemLog = new SystemLogAuditReader(logStore);
  const health = {
    outbox: new DynamoHealthOutbox({ client: clients.ddb, tableName: config.tableName }),
    audit: new SystemLogAuditSink(logRegistry, ingest, systemLog),
    recorded: systemLog,
  };
  // Health observations recorded by the current invocation (one at a time per container).
  let healthRecorded = 0;
  return {
    name: 'deliver',
    clock,
    safetyMs: DELIVER_SAFETY_MS,
    listLogs: () => logStore.listLogs(),
    run: async (logIds, deadlineMs) => {
      healthRecorded = 0;
      const healthFailure: DeliverJobOutcome[] = [];
      try {
        healthRecorded = (await recordHealthObservations(health)).recorded;
      } catch (err) {
        healthFailure.push({
          ok: false,
          logId: SYSTEM_LOG_ID,
          code: err instanceof AnchorlogError ? err.code : 'INTERNAL',
          message: `recording health observations: ${err instanceof Error ? err.message : String(err)}`,
        });
      }
      const outcomes = await eachLog(logIds, deadlineMs, clock, (logId) =>
        delivery.deliverLog(logId, deadlineMs),
      );
      return [...healthFailure, ...outcomes];
    },
    notable: (o) => o.ok && (o.entries > 0 || o.status === 'busy'),
    summarize: (outcomes) => ({
      logs: outcomes.length,
      healthRecorded,
      delivered: outcomes.reduce((n, o) => n + (o.ok ? o.delivered : 0), 0),
      deadLettered: outcomes.reduce((n, o) => n + (o.ok ? o.deadLettered : 0), 0),
      pending: outcomes.reduce((n, o) => n + (o.ok ? o.pending : 0), 0),
    }),
  };
}

/** An operator's request to the deliver function (docs/operations.md "Dead letters"). */
export type DeadLetterCommand =
  | {
      readonly deadLetters: {
        readonly list: { state?: DeadLetter['state'] | 'all'; after?: string; limit?: number };
      };
    }
  | { readonly deadLetters: { readonly redrive: readonly string[] | 'all' } };

export type DeadLetterCommandErrorCode = 'BAD_COMMAND';
export class DeadLetterCommandError extends AnchorlogError<DeadLetterCommandErrorCode> {}

/** Whether an invocation input is a dead-letter command rather than a schedule input. */
export function isDeadLetterCommand(input: unknown): input is DeadLetterCommand {
  return typeof input === 'object' && input !== null && 'deadLetters' in input;
}

/**
 * Runs a dead-letter command: a page of the list (open ones unless `state`
 * says otherwise), or a re-drive of the named letters (or every open one)
 * until the invocation's time is nearly spent.
 */
export async function runDeadLetterCommand(
  delivery: DeliveryService,
  command: DeadLetterCommand,
  clock: Services['clock'],
  context: JobContext,
): Promise<DeadLetterPage | RedriveOutcome> {
  const body = command.deadLetters as Record<string, unknown>;
  if ('list' in body && typeof body.list === 'object' && body.list !== null) {
    const l = body.list as { state?: unknown; after?: unknown; limit?: unknown };
    if (l.state !== undefined && l.state !== 'open' && l.state !== 'redriven' && l.state !== 'all')
      throw new DeadLetterCommandError('BAD_COMMAND', 'deadLetters.list.state must be open, redriven or all');
    return delivery.listDeadLetters({
      ...(l.state !== undefined ? { state: l.state as 'open' } : {}),
      ...(typeof l.after === 'string' ? { after: l.after } : {}),
      ...(typeof l.limit === 'number' ? { limit: l.limit } : {}),
    });
  }
  if ('redrive' in body) {
    const ids = body.redrive;
    if (ids !== 'all' && !(Array.isArray(ids) && ids.every((x) => typeof x === 'string')))
      throw new DeadLetterCommandError(
        'BAD_COMMAND',
        'deadLetters.redrive must be "all" or a list of dead-letter ids',
      );
    const remaining = context.getRemainingTimeInMillis();
    return delivery.redrive(
      ids as readonly string[] | 'all',
      clock.now() + remaining - Math.min(DELIVER_SAFETY_MS, remaining / 3),
    );
  }
  throw new DeadLetterCommandError(
    'BAD_COMMAND',
    'deadLetters must be {"list": {"state"?, "after"?, "limit"?}} or {"redrive": [ids] | "all"}',
  );
}
