// POST /v1/logs/{logId}/index/rebuild (scope admin): rebuilds a log's columnar
// query index from the archive's entry bundles (docs/query.md §7). A function of
// its own because it writes and deletes the index bucket, which the query
// function (read-only) may not.
import { reindexApi } from '../src/compose/query.ts';
import { createServices } from '../src/compose/services.ts';
import { loadConfig } from '../src/config.ts';
import { apiHandler } from './api-handler.ts';

const services = createServices(loadConfig());
export const handler = apiHandler(reindexApi(services), services.authenticate);
