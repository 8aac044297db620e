// src/jobs/scheduled-job.ts, pure: a fake job, a fake Lambda context and a
// stepping clock. What every scheduled function (seal, project, anchor,
// principal recovery) does around its use case.
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/app/errors.ts';
import {
  eachLog,
  type JobLogLine,
  type JobOutcome,
  jobDeadline,
  requestedLogs,
  type ScheduledJob,
  ScheduledJobError,
  scheduledJob,
  triggerInput,
} from '../../src/jobs/scheduled-job.ts';

type Outcome =
  | { ok: true; logId: string; done: number }
  | { ok: false; logId: string; code: string; message: string };

const T0 = Date.UTC(2026, 0, 1);

function fakeJob(
  outcomes: (logId: string) => Outcome,
  extra: Partial<ScheduledJob<Outcome, { logs: number }>> = {},
) {
  const calls: { logIds: readonly string[]; deadlineMs: number }[] = [];
  const metricsCalls: (readonly string[])[] = [];
  const job: ScheduledJob<Outcome, { logs: number }> = {
    name: 'seal',
    clock: { now: () => T0 },
    safetyMs: 20_000,
    listLogs: async () => ['a', 'b', 'c'],
    run: async (logIds, deadlineMs) => {
      calls.push({ logIds, deadlineMs });
      return logIds.map(outcomes);
    },
    notable: (o) => o.ok && o.done > 0,
    summarize: (os) => ({ logs: os.length }),
    metrics: async (logIds) => {
      metricsCalls.push(logIds);
    },
    ...extra,
  };
  return { job, calls, metricsCalls };
}

const context = (remainingMs: number) => ({ getRemainingTimeInMillis: () => remainingMs });
const idle = (logId: string): Outcome => ({ ok: true, logId, done: 0 });

function run<O extends JobOutcome, S>(job: ScheduledJob<O, S>, event: unknown, remainingMs = 60_000) {
  const lines: JobLogLine[] = [];
  const invoke = scheduledJob(job, (l) => lines.push(l));
  return { lines, result: invoke(event, context(remainingMs)) };
}

describe('log selection', () => {
  it('the schedule input names logs; anything else means every log', async () => {
    for (const [event, expected] of [
      [{ logIds: ['b'] }, ['b']],
      [{ logIds: [] }, []],
      [{}, ['a', 'b', 'c']],
      [null, ['a', 'b', 'c']],
      [undefined, ['a', 'b', 'c']],
      [{ 'detail-type': 'Scheduled Event', detail: {} }, ['a', 'b', 'c']],
      [{ logIds: 'a' }, ['a', 'b', 'c']],
    ] as const) {
      const { job, calls } = fakeJob(idle);
      await run(job, event).result;
      expect(calls[0]?.logIds, JSON.stringify(event)).toEqual(expected);
    }
  });

  it('drops names that are not log ids (never reaches a store key)', () => {
    expect(requestedLogs({ logIds: ['ok-1', 'Bad', '../x', 7, 'a#b', ''] })).toEqual(['ok-1']);
  });

  it('a job run as another function\u2019s Lambda destination works on what that run was asked for', async () => {
    const destination = (requestPayload: unknown, condition = 'Success') => ({
      version: '1.0',
      timestamp: '2026-01-01T00:00:00.000Z',
      requestContext: {
        requestId: 'r1',
        functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:seal:$LATEST',
        condition,
        approximateInvokeCount: 1,
      },
      requestPayload,
      responseContext: { statusCode: 200, executedVersion: '$LATEST' },
      responsePayload: { logs: 3, sealed: 1 },
    });
    for (const [event, expected] of [
      [destination({}), ['a', 'b', 'c']],
      [destination({ logIds: ['b'] }, 'RetriesExhausted'), ['b']],
      [{ logIds: ['c'] }, ['c']],
      [{ requestPayload: { logIds: ['c'] } }, ['a', 'b', 'c']],
    ] as const) {
      const { job, calls } = fakeJob(idle);
      await run(job, triggerInput(event)).result;
      expect(calls[0]?.logIds, JSON.stringify(event)).toEqual(expected);
    }
  });

  it('a job that is not per log runs once with no logs, whatever the input says', async () => {
    const { job, calls } = fakeJob(idle);
    const { listLogs: _, ...notPerLog } = job;
    await run(notPerLog, { logIds: ['a'] }).result;
    expect(calls[0]?.logIds).toEqual([]);
  });
});

describe('deadline', () => {
  it('is safetyMs before the end of the invocation, at most a third of the time left', async () => {
    expect(jobDeadline(T0, 60_000, 20_000)).toBe(T0 + 40_000);
    expect(jobDeadline(T0, 30_000, 20_000)).toBe(T0 + 20_000);
    expect(jobDeadline(T0, 60_000, 0)).toBe(T0 + 60_000);
    const { job, calls } = fakeJob(idle);
    await run(job, {}, 90_000).result;
    expect(calls[0]?.deadlineMs).toBe(T0 + 70_000);
  });

  it('eachLog stops starting logs at the deadline and reports the ones left as failures', async () => {
    let now = T0;
    const clock = { now: () => now };
    const out = await eachLog(['a', 'b', 'c'], T0 + 10, clock, async () => {
      now += 10;
      return { size: 1 };
    });
    expect(out).toEqual([
      { ok: true, logId: 'a', size: 1 },
      { ok: false, logId: 'b', code: 'UNAVAILABLE', message: 'deadline reached before this log' },
      { ok: false, logId: 'c', code: 'UNAVAILABLE', message: 'deadline reached before this log' },
    ]);
  });

  it("eachLog: one log's failure does not stop the others; its code is kept, anything uncoded is INTERNAL", async () => {
    const out = await eachLog(['a', 'b', 'c'], T0 + 1000, { now: () => T0 }, async (logId) => {
      if (logId === 'a') throw new AppError('UNAVAILABLE', 'store down');
      if (logId === 'b') throw new TypeError('bug');
      return { size: 2 };
    });
    expect(out).toEqual([
      { ok: false, logId: 'a', code: 'UNAVAILABLE', message: 'store down' },
      { ok: false, logId: 'b', code: 'INTERNAL', message: 'bug' },
      { ok: true, logId: 'c', size: 2 },
    ]);
  });
});

describe('lines, alarm and the failed invocation', () => {
  it('an all-idle run writes nothing and returns the summary', async () => {
    const { job, metricsCalls } = fakeJob(idle);
    const { lines, result } = run(job, {});
    expect(await result).toEqual({ logs: 3 });
    expect(lines).toEqual([]);
    expect(metricsCalls).toEqual([['a', 'b', 'c']]);
  });

  it('notable outcomes at INFO, named by the job', async () => {
    const { job } = fakeJob((logId) => ({ ok: true, logId, done: logId === 'b' ? 4 : 0 }));
    const { lines, result } = run(job, {});
    await result;
    expect(lines).toEqual([{ level: 'INFO', message: 'seal', ok: true, logId: 'b', done: 4 }]);
  });

  it('failures are WARN, INTEGRITY is ERROR plus the alarm line; the invocation fails after the metrics', async () => {
    const { job, metricsCalls } = fakeJob((logId) =>
      logId === 'a'
        ? { ok: false, logId, code: 'UNAVAILABLE', message: 'throttled' }
        : logId === 'c'
          ? { ok: false, logId, code: 'INTEGRITY', message: 'chain break' }
          : idle(logId),
    );
    const { lines, result } = run(job, {});
    const err = await result.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ScheduledJobError);
    expect((err as ScheduledJobError).code).toBe('JOB_FAILED');
    expect((err as ScheduledJobError).failures).toEqual([
      { logId: 'a', code: 'UNAVAILABLE' },
      { logId: 'c', code: 'INTEGRITY' },
    ]);
    expect((err as Error).message).toBe('seal failed for 2 of 3 logs: a, c');
    expect(lines).toEqual([
      { level: 'WARN', message: 'seal', ok: false, logId: 'a', code: 'UNAVAILABLE', error: 'throttled' },
      { level: 'ERROR', message: 'seal', ok: false, logId: 'c', code: 'INTEGRITY', error: 'chain break' },
      // The line the stack's SealIntegrity metric filter matches (docs/operations.md).
      { level: 'ERROR', alarm: 'SEAL_INTEGRITY', logIds: ['c'] },
    ]);
    // Metrics are still emitted for a run that failed.
    expect(metricsCalls).toEqual([['a', 'b', 'c']]);
  });

  it('a failing metrics step is a WARN line, not a failed invocation', async () => {
    const { job } = fakeJob(idle, {
      metrics: async () => {
        throw new Error('GetItem throttled');
      },
    });
    const { lines, result } = run(job, {});
    expect(await result).toEqual({ logs: 3 });
    expect(lines).toEqual([
      { level: 'WARN', message: 'seal metrics failed', err: 'Error: GetItem throttled' },
    ]);
  });

  it('a job that throws (e.g. its signing key is unreachable) fails the invocation with that error', async () => {
    const boom = new AppError('UNAVAILABLE', 'KMS down');
    const { job } = fakeJob(idle, {
      run: async () => {
        throw boom;
      },
    });
    await expect(run(job, {}).result).rejects.toBe(boom);
  });

  it('a job that is not per log counts runs, and names no logs', async () => {
    const job: ScheduledJob<{ ok: false; code: string; message: string }, unknown> = {
      name: 'recover',
      clock: { now: () => T0 },
      safetyMs: 0,
      run: async () => [{ ok: false, code: 'INCOMPLETE', message: '1 left staged' }],
      notable: () => true,
      summarize: () => ({}),
    };
    const { lines, result } = run(job, {});
    await expect(result).rejects.toThrow('recover failed for 1 of 1 runs');
    expect(lines).toEqual([
      { level: 'WARN', message: 'recover', ok: false, code: 'INCOMPLETE', error: '1 left staged' },
    ]);
  });
});
