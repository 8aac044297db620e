// Pending sweep λ, invoked by EventBridge Scheduler every minute: a sequencing run per log
// with entries pending (docs/ingest.md §9 "The sweep"), so a request answered 202 is sequenced
// even when no later request reaches its log. On the direct ingest path it does nothing.
import { pendingSweepJob } from '../src/compose/ingest.ts';
import { createServices } from '../src/compose/services.ts';
import { loadConfig } from '../src/config.ts';
import { jobHandler } from './job-handler.ts';

export const handler = jobHandler(pendingSweepJob(createServices(loadConfig())));
