// Detect λ: runs right after every seal run — it is the seal function's asynchronous-invocation
// destination, on success and on failure — over the logs that seal run was asked for (every log
// on the schedule), evaluating the newly sealed records against the enabled rules until the
// invocation's time is nearly spent; alerts wait in the outbox for delivery (docs/detection.md).
// A direct invocation with a schedule input (`{ "logIds": [...] }` or `{}`) works too.
// Wiring at module scope (src/compose/detect.ts): one config read, rules validated at cold start.
import type { Context } from 'aws-lambda';
import { detectJob } from '../src/compose/detect.ts';
import { createServices } from '../src/compose/services.ts';
import { loadConfig } from '../src/config.ts';
import { triggerInput } from '../src/jobs/scheduled-job.ts';
import { jobHandler } from './job-handler.ts';

const run = jobHandler(detectJob(createServices(loadConfig())));

export const handler = (event: unknown, context: Pick<Context, 'getRemainingTimeInMillis'>) =>
  run(triggerInput(event), context);
