// Anchor λ, invoked by EventBridge Scheduler every 5 minutes: time-stamps each log's
// newest checkpoint with the configured TSAs. Wiring at module scope
// (src/compose/anchor.ts): one config read, one read of the TSA credentials secret
// and of the log's public keys per container. TSA failures are EMF metrics
// (AnchorQuorumMissed, AnchorTsaFailure per TSA); a log whose run could not complete
// fails the invocation, and the next schedule retries.
import { anchorJob } from '../src/compose/anchor.ts';
import { createServices } from '../src/compose/services.ts';
import { loadConfig } from '../src/config.ts';
import { jobHandler } from './job-handler.ts';

export const handler = jobHandler(await anchorJob(createServices(loadConfig())));
