// /v1/admin/… (principals, logs, detection rules). Every change is appended to the `system` log first (PrincipalService, LogAdminService, RuleService).
import { adminApi } from '../src/compose/principals.ts';
import { createServices } from '../src/compose/services.ts';
import { loadConfig } from '../src/config.ts';
import { apiHandler } from './api-handler.ts';

const services = createServices(loadConfig());
export const handler = apiHandler(adminApi(services), services.authenticate);
