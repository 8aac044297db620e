/**
 * Shared shape of every scheduled Lambda: EventBridge Scheduler input and
 * the Lambda context → the job (src/jobs/scheduled-job.ts), its lines as JSON
 * on stdout for CloudWatch Logs and its metric filters.
 */
import type { Context } from 'aws-lambda';
import { type JobOutcome, type ScheduledJob, scheduledJob } from '../src/jobs/scheduled-job.ts';

export function jobHandler<O extends JobOutcome, S>(
  job: ScheduledJob<O, S>,
): (event: unknown, context: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<S> {
  return scheduledJob(job, (line) => console.log(JSON.stringify(line)));
}
