// POST /v1/logs/{logId}/events. Wiring at module scope: one config read, one set of SDK clients per container.
import { ingestApi } from '../src/compose/ingest.ts';
import { createServices } from '../src/compose/services.ts';
import { loadConfig } from '../src/config.ts';
import { apiHandler } from './api-handler.ts';

const services = createServices(loadConfig());
export const handler = apiHandler(ingestApi(services), services.authenticate);
