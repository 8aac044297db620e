// Query projector λ, invoked by EventBridge Scheduler every minute: projects new
// batches of every log (or the `logIds` in the schedule's input) into the query
// indexes until the invocation's time is nearly spent. Its hot window
// (ANCHORLOG_QUERY_HOT_DAYS) is the query function's: src/compose/query.ts.
import { projectJob } from '../src/compose/query.ts';
import { createServices } from '../src/compose/services.ts';
import { loadConfig } from '../src/config.ts';
import { jobHandler } from './job-handler.ts';

export const handler = jobHandler(projectJob(createServices(loadConfig())));
