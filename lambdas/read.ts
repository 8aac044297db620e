// GET checkpoint, tiles, proofs, anchors (scope proofs:read) and the public GET /v1/keys.
// Wiring at module scope: one config read, one set of SDK clients per container.

import { emfMetrics } from '../src/compose/metrics.ts';
import { readApi } from '../src/compose/read.ts';
import { createServices } from '../src/compose/services.ts';
import { loadConfig } from '../src/config.ts';
import { apiHandler } from './api-handler.ts';

// EMF metrics: CatalogProblems (ingest), ProducerGapsOverdue and ProducerStreamsSilent (docs/events.md).
const services = createServices(loadConfig(), { metrics: emfMetrics() });
export const handler = apiHandler(readApi(services), services.authenticate);
