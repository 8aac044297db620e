// Compaction λ, invoked by EventBridge Scheduler every hour: merges the small
// Parquet files of each log's closed days in the columnar query index
// (docs/query.md §7). Writes and deletes the index bucket only.
import { compactJob } from '../src/compose/query.ts';
import { createServices } from '../src/compose/services.ts';
import { loadConfig } from '../src/config.ts';
import { jobHandler } from './job-handler.ts';

export const handler = jobHandler(compactJob(createServices(loadConfig())));
