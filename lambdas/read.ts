// GET checkpoint, tiles, proofs, anchors (scope proofs:read) and the public GET /v1/keys.
// Wiring at module scope: one config read, one set of SDK clients per container.
import { readApi } from '../src/compose/read.ts';
import { createServices } from '../src/compose/services.ts';
import { loadConfig } from '../src/config.ts';
import { apiHandler } from './api-handler.ts';

const services = createServices(loadConfig());
export const handler = apiHandler(readApi(services), services.authenticate);
