// Stream λ: runs right after every seal run (the seal function's asynchronous-invocation
// destination) and every 5 minutes on its own schedule (retries that are due; a blocked stream's
// next try): each configured stream's sealed records after its cursor → its SIEM or bucket
// (docs/streams.md). Operators invoke it with a command to list dead letters or skip one.
// Wiring at module scope (src/compose/streams.ts): one config read, the streams' secrets read
// once per container; a missing or malformed secret stops the function at cold start.
import type { Context } from 'aws-lambda';
import { createServices } from '../src/compose/services.ts';
import { createStreamService, isStreamCommand, runStreamCommand, streamJob } from '../src/compose/streams.ts';
import { loadConfig } from '../src/config.ts';
import { triggerInput } from '../src/jobs/scheduled-job.ts';
import { jobHandler } from './job-handler.ts';

const services = createServices(loadConfig());
const streams = await createStreamService(services);
const run = jobHandler(streamJob(services, streams));

export const handler = (event: unknown, context: Pick<Context, 'getRemainingTimeInMillis'>) => {
  const input = triggerInput(event);
  return isStreamCommand(input) ? runStreamCommand(streams, input) : run(input, context);
};
