/**
 * The one shape of every scheduled job (seal, project, anchor, principal
 * recovery): EventBridge Scheduler invokes a Lambda with the schedule's input,
 * the local stack's timer calls the same function. This module owns what the
 * jobs have in common, so a new job only says what it runs:
 *
 *   - log selection: the input `{ "logIds": ["a", "b"] }` names logs (ids that
 *     are not log ids are dropped); anything else means every log;
 *   - the deadline: stop starting work `safetyMs` before the invocation ends
 *     (at most a third of the time left), so one unit of work can finish;
 *   - one structured line per outcome worth reporting, at INFO, WARN or ERROR
 *     (ERROR for INTEGRITY: stored state contradicts itself);
 *   - the alarm line `{"alarm":"<JOB>_INTEGRITY","logIds":[…]}` when any
 *     outcome is INTEGRITY (the stack alarms on SEAL_INTEGRITY: docs/operations.md);
 *   - a failed invocation (ScheduledJobError) when any outcome failed, so the
 *     Lambda Errors metric and its alarm see it. The jobs are idempotent and
 *     the next schedule is the retry.
 */
import { AnchorlogError } from '../core/errors.ts';
import { isValidLogId } from '../core/record.ts';
import type { Clock } from '../ports/clock.ts';

/** What a job reports per unit of work (a log; for a job not per log, its one run). */
export type JobOutcome =
  | { readonly ok: true; readonly logId?: string }
  | { readonly ok: false; readonly logId?: string; readonly code: string; readonly message: string };

export interface ScheduledJob<O extends JobOutcome = JobOutcome, S = unknown> {
  /** Names the job's log lines, its alarm line and its failure (`seal`, `project`, …). */
  readonly name: string;
  /** The clock `run` compares the deadline with. */
  readonly clock: Clock;
  /** Stop starting work this long before the invocation ends (capped at a third of the time left). */
  readonly safetyMs: number;
  /**
   * Every log, for a job that works per log (the schedule input may narrow
   * the selection). Absent for a job that is not per log: `run` gets `[]`.
   */
  readonly listLogs?: () => Promise<readonly string[]>;
  /** Does the work; one outcome per unit, failures included (a throw fails the whole invocation). */
  run(logIds: readonly string[], deadlineMs: number): Promise<readonly O[]>;
  /** Whether a successful outcome is worth a line (an idle run is not). Failures always are. */
  notable(outcome: O): boolean;
  /** The invocation's result when nothing failed. */
  summarize(outcomes: readonly O[]): S;
  /**
   * After the run: gauges (seal: SealLagSeconds) and health observations
   * (seal: lag and halts; anchor: missed quorums and failing TSAs). Its
   * failure is a WARN line, not a failed run.
   */
  metrics?(logIds: readonly string[], outcomes: readonly O[]): Promise<void>;
}

/** The part of the Lambda context a job uses; the local stack passes its own. */
export interface JobContext {
  getRemainingTimeInMillis(): number;
}

export type JobLogLevel = 'INFO' | 'WARN' | 'ERROR';
export interface JobLogLine {
  readonly level: JobLogLevel;
  readonly [field: string]: unknown;
}

export type ScheduledJobErrorCode = 'JOB_FAILED';

/** The invocation failed: some unit of work failed (each is listed in `failures` and logged). */
export class ScheduledJobError extends AnchorlogError<ScheduledJobErrorCode> {
  readonly job: string;
  readonly failures: readonly { readonly logId?: string; readonly code: string }[];
  constructor(job: string, failures: ScheduledJobError['failures'], of: number, unit: string) {
    const names = failures.flatMap((f) => (f.logId === undefined ? [] : [f.logId]));
    const shown = names.length > 10 ? `${names.slice(0, 10).join(', ')}, …` : names.join(', ');
    super('JOB_FAILED', `${job} failed for ${failures.length} of ${of} ${unit}${shown ? `: ${shown}` : ''}`);
    this.job = job;
    this.failures = failures;
  }
}

/** The logs a schedule input names (`{ "logIds": [...] }`), or undefined for "every log". */
export function requestedLogs(event: unknown): string[] | undefined {
  const ids = (event as { logIds?: unknown } | null | undefined)?.logIds;
  if (!Array.isArray(ids)) return undefined;
  return ids.filter(isValidLogId);
}

/**
 * The schedule input of a job that runs after another function: a Lambda
 * destination record (the other function's asynchronous invocation ended)
 * carries that invocation's own input in `requestPayload`, so the job works
 * on the logs the other one was asked to (the detect job after the seal job).
 * Anything else is a schedule input already.
 */
export function triggerInput(event: unknown): unknown {
  const e = event as { requestContext?: { functionArn?: unknown }; requestPayload?: unknown } | null;
  return typeof e?.requestContext?.functionArn === 'string' && 'requestPayload' in e
    ? e.requestPayload
    : event;
}

/** Epoch ms after which a job starts no new work: `safetyMs` (at most a third of the time left) early. */
export function jobDeadline(nowMs: number, remainingMs: number, safetyMs: number): number {
  return nowMs + remainingMs - Math.min(safetyMs, remainingMs / 3);
}

function levelOf(outcome: JobOutcome): JobLogLevel {
  if (outcome.ok) return 'INFO';
  return outcome.code === 'INTEGRITY' ? 'ERROR' : 'WARN';
}

/** One line per outcome: `message` names the job; a failure's own message is `error`. */
function outcomeLine(job: string, outcome: JobOutcome): JobLogLine {
  if (outcome.ok) return { level: levelOf(outcome), ...outcome, message: job };
  const { message: error, ...rest } = outcome;
  return { level: levelOf(outcome), ...rest, message: job, error };
}

/**
 * The invocation function of `job`: `(scheduleInput, context) → summary`,
 * writing its lines to `log`. Pure apart from what `job` and `log` do.
 */
export function scheduledJob<O extends JobOutcome, S>(
  job: ScheduledJob<O, S>,
  log: (line: JobLogLine) => void,
): (event: unknown, context: JobContext) => Promise<S> {
  return async (event, context) => {
    const logIds = job.listLogs ? (requestedLogs(event) ?? (await job.listLogs())) : [];
    const deadline = jobDeadline(job.clock.now(), context.getRemainingTimeInMillis(), job.safetyMs);
    const outcomes = await job.run(logIds, deadline);
    for (const o of outcomes) if (!o.ok || job.notable(o)) log(outcomeLine(job.name, o));
    const failed = outcomes.filter((o): o is O & { ok: false; code: string } => !o.ok);
    const integrity = failed.filter((o) => o.code === 'INTEGRITY');
    if (integrity.length > 0)
      // Metric filter → alarm → operator. The job has stopped for these logs until someone looks.
      log({
        level: 'ERROR',
        alarm: `${job.name.toUpperCase()}_INTEGRITY`,
        logIds: integrity.flatMap((o) => (o.logId === undefined ? [] : [o.logId])),
      });
    if (job.metrics)
      await job
        .metrics(logIds, outcomes)
        .catch((err: unknown) =>
          log({ level: 'WARN', message: `${job.name} metrics failed`, err: String(err) }),
        );
    if (failed.length > 0)
      throw new ScheduledJobError(
        job.name,
        failed.map((o) => ({ ...(o.logId !== undefined ? { logId: o.logId } : {}), code: o.code })),
        outcomes.length,
        job.listLogs ? 'logs' : 'runs',
      );
    return job.summarize(outcomes);
  };
}

export type EachLogOutcome<T> =
  | (T & { ok: true; logId: string })
  | { ok: false; logId: string; code: string; message: string };

/**
 * Runs `work` on each log in turn until the deadline, one log's failure never
 * stopping the others (for jobs whose use case has no `…Many` of its own).
 * A log the deadline leaves out is a failure: it must not look done.
 */
export async function eachLog<T extends object>(
  logIds: readonly string[],
  deadlineMs: number,
  clock: Clock,
  work: (logId: string) => Promise<T>,
): Promise<EachLogOutcome<T>[]> {
  const out: EachLogOutcome<T>[] = [];
  for (const logId of logIds) {
    if (clock.now() >= deadlineMs) {
      out.push({ ok: false, logId, code: 'UNAVAILABLE', message: 'deadline reached before this log' });
      continue;
    }
    try {
      out.push({ ...(await work(logId)), ok: true, logId });
    } catch (err) {
      out.push({
        ok: false,
        logId,
        code: err instanceof AnchorlogError ? err.code : 'INTERNAL',
        message: err instanceof Error ? err.message : String(err),
      });
    }
  }
  return out;
}
