// POST /v1/logs/{logId}/events. Wiring at module scope: one config read, one set of SDK clients per container.
import { createServices } from '../src/compose.ts';
import { loadConfig } from '../src/config.ts';
import { eventWriteRoutes } from '../src/http/routes/events.ts';
import { apiHandler } from './api-handler.ts';

const services = createServices(loadConfig());
export const handler = apiHandler(eventWriteRoutes(services), services.authenticate);
