// /v1/admin/… (principals, logs). Every change is appended to the `system` log first (PrincipalService, LogAdminService).
import { createServices } from '../src/compose.ts';
import { loadConfig } from '../src/config.ts';
import { adminRoutes } from '../src/http/routes/admin.ts';
import { apiHandler } from './api-handler.ts';

const services = createServices(loadConfig());
export const handler = apiHandler(adminRoutes(services), services.authenticate);
