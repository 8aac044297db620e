// /v1/admin/… (principals, logs, detection rules). Every change is appended to the `system` log first (PrincipalService, LogAdminService, RuleService).
// Reached two ways (docs/deploy.md "Admin plane"): the main API with an API key (applications,
// agents, the break-glass key: each of its uses recorded and alerted), and the IAM admin API,
// where API Gateway checked a SigV4 signature and IAM an MFA condition (humans).
import {
  adminApi,
  adminAuthenticate,
  breakGlassGuard,
  requireMfaForHumans,
} from '../src/compose/principals.ts';
import { createServices } from '../src/compose/services.ts';
import { loadConfig } from '../src/config.ts';
import { apiHandler } from './api-handler.ts';

const config = loadConfig();
const services = createServices(config);
const routes = breakGlassGuard(
  requireMfaForHumans(adminApi(services), config),
  services.principals,
  config.breakGlass,
);
export const handler = apiHandler(routes, adminAuthenticate(services));
