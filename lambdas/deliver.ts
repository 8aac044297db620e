// Deliver λ: runs right after every detection run — it is the detect function's
// asynchronous-invocation destination, on success and on failure — and every 5 minutes on its
// own schedule (retries that are due, and a safety net should detection not run): each log's
// outbox → `alert.*` events in the system log → the alert's destinations → acknowledged
// (docs/detection.md "Delivery"). Operators invoke it with a dead-letter command to list or
// re-drive dead letters (docs/operations.md "Dead letters").
// Wiring at module scope (src/compose/deliver.ts): one config read, the destinations' secrets
// read once per container; a missing or malformed secret stops the function at cold start.
import type { Context } from 'aws-lambda';
import {
  createDeliveryService,
  deliverJob,
  isDeadLetterCommand,
  runDeadLetterCommand,
} from '../src/compose/deliver.ts';
import { createServices } from '../src/compose/services.ts';
import { loadConfig } from '../src/config.ts';
import { triggerInput } from '../src/jobs/scheduled-job.ts';
import { jobHandler } from './job-handler.ts';

const services = createServices(loadConfig());
const delivery = await createDeliveryService(services);
const run = jobHandler(deliverJob(services, delivery));

export const handler = (event: unknown, context: Pick<Context, 'getRemainingTimeInMillis'>) => {
  const input = triggerInput(event);
  return isDeadLetterCommand(input)
    ? runDeadLetterCommand(delivery, input, services.clock, context)
    : run(input, context);
};
