// POST /v1/logs/{logId}/events. Wiring at module scope: one config read, one set of SDK clients per container.
import { ingestApi } from '../src/compose/ingest.ts';
import { emfMetrics } from '../src/compose/metrics.ts';
import { createServices } from '../src/compose/services.ts';
import { loadConfig } from '../src/config.ts';
import { apiHandler } from './api-handler.ts';

// EMF metrics: CatalogProblems (ingest), ProducerGapsOverdue and ProducerStreamsSilent (docs/events.md).
const services = createServices(loadConfig(), { metrics: emfMetrics() });
export const handler = apiHandler(ingestApi(services), services.authenticate);
