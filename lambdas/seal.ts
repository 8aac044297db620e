// Seal λ, invoked by EventBridge Scheduler every minute: seals every log (or the
// `logIds` in the schedule's input) until the invocation's time is nearly spent.
// Wiring at module scope (src/compose/seal.ts): one config read and one set of SDK
// clients per container; the KMS public key is fetched on the first run.
import { sealJob } from '../src/compose/seal.ts';
import { createServices } from '../src/compose/services.ts';
import { loadConfig } from '../src/config.ts';
import { jobHandler } from './job-handler.ts';

export const handler = jobHandler(sealJob(createServices(loadConfig())));
