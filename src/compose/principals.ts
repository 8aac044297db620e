/**
 * Principals (src/app/principals.ts): the admin API (with the detection
 * rules of src/app/rules.ts), the authorizer's API-key check, and the
 * recovery job that completes changes a crash left staged. All three record
 * into, and trust only, the `system` log.
 */
import { AppError } from '../app/errors.ts';
import { apiKeyFromHeaders } from '../app/principals.ts';
import type { Principal } from '../core/principal.ts';
import type { Route } from '../http/router.ts';
import { accessReviewRoutes } from '../http/routes/access-reviews.ts';
import { adminRoutes } from '../http/routes/admin.ts';
import { alertRoutes } from '../http/routes/alerts.ts';
import { logPolicyRoutes } from '../http/routes/log-policy.ts';
import { producerKeyRoutes } from '../http/routes/producer-keys.ts';
import { roleRoutes } from '../http/routes/roles.ts';
import { ruleRoutes } from '../http/routes/rules.ts';
import { scimRoutes } from '../http/routes/scim.ts';
import type { ScheduledJob } from '../jobs/scheduled-job.ts';
import type { Services } from './services.ts';

/**
 * The admin function's routes (/v1/admin/…: principals, logs, detection
 * rules): every change is appended to the `system` log first.
 */
export function adminApi(
  services: Pick<Services, 'principals' | 'logAdmin' | 'rules' | 'alerts' | 'roles'> &
    Partial<Pick<Services, 'accessReviews' | 'producerKeys' | 'scim' | 'logPolicy'>>,
): Route[] {
  const { producerKeys, logPolicy } = services;
  return [
    ...adminRoutes(services),
    ...(producerKeys ? producerKeyRoutes({ producerKeys }) : []),
    ...(logPolicy ? logPolicyRoutes({ logPolicy }) : []),
    ...ruleRoutes(services),
    ...alertRoutes(services),
    ...roleRoutes(services),
    ...(services.accessReviews ? accessReviewRoutes({ reviews: services.accessReviews }) : []),
    ...(services.scim ? scimRoutes({ scim: services.scim }) : []),
  ];
}

/**
 * How the admin function authenticates a request that carries no principal
 * from the Lambda authorizer: through the IAM (SigV4, MFA-required) admin API,
 * the caller's assumed-role session (docs/deploy.md "Admin plane"); otherwise
 * its API key.
 */
export function adminAuthenticate(
  services: Pick<Services, 'principals' | 'authenticate'>,
): Services['authenticate'] {
  return (req) =>
    req.iamCaller !== undefined
      ? services.principals.authenticateIamSession(req.iamCaller)
      : services.authenticate(req);
}

/**
 * With `adminHumansViaIam` (docs/deploy.md "Admin plane"), a human reaches
 * the admin API only through the IAM path, where IAM required MFA: a human
 * principal's API key is refused there (403), except the break-glass key,
 * whose every use is recorded and alerted instead. Applications and agents
 * (an identity provider's SCIM key, automation) keep their keys.
 */
export function requireMfaForHumans(
  routes: Route[],
  policy: { adminHumansViaIam?: boolean | undefined; breakGlass?: { principalId: string } | undefined },
): Route[] {
  if (!policy.adminHumansViaIam) return routes;
  return routes.map((r) =>
    r.auth !== 'principal'
      ? r
      : {
          ...r,
          handle: async (req) => {
            const p = req.principal;
            if (p?.kind === 'human' && req.iamCaller === undefined && p.id !== policy.breakGlass?.principalId)
              throw new AppError(
                'FORBIDDEN',
                'humans reach the admin API through its IAM endpoint with MFA (docs/deploy.md "Admin plane"), not with an API key',
              );
            return r.handle(req);
          },
        },
  );
}

/**
 * The break-glass key on the admin API (docs/deploy.md "Admin plane"):
 * every request made with it is first recorded (`principal.break_glass.use`,
 * alerted by `anchorlog.admin.break-glass-used`), then refused (401) unless
 * break-glass is enabled. Without `breakGlass` in the config (the local
 * stack), routes are unchanged.
 */
export function breakGlassGuard(
  routes: Route[],
  principals: Pick<Services['principals'], 'recordBreakGlassUse'>,
  breakGlass: { principalId: string; enabled: boolean } | undefined,
): Route[] {
  if (!breakGlass) return routes;
  return routes.map((r) =>
    r.auth !== 'principal'
      ? r
      : {
          ...r,
          handle: async (req) => {
            if (req.principal?.id === breakGlass.principalId && req.iamCaller === undefined)
              await principals.recordBreakGlassUse(req.principal, breakGlass.enabled, {
                requestId: req.requestId,
                route: `${r.method} ${r.pattern}`,
              });
            return r.handle(req);
          },
        },
  );
}

/**
 * Whether the authorizer must refuse this request: the break-glass key on a
 * route outside the admin API (`/v1/admin/…`), where its use would be
 * neither recorded nor alerted (breakGlassGuard runs in the admin function).
 */
export function breakGlassOutsideAdmin(
  principalId: string,
  routeKey: string | undefined,
  breakGlass: { principalId: string } | undefined,
): boolean {
  if (!breakGlass || principalId !== breakGlass.principalId) return false;
  const path = (routeKey ?? '').split(' ')[1] ?? '';
  return !path.startsWith('/v1/admin/');
}

/**
 * The authorizer's check: the principal an API key (from the request's
 * headers) belongs to, as its system-log record describes it. Throws
 * AppError UNAUTHENTICATED for a missing, unknown, revoked or unbound key;
 * anything else is a store failure.
 */
export function apiKeyAuthorizer(
  services: Pick<Services, 'principals'>,
): (headers: Parameters<typeof apiKeyFromHeaders>[0]) => Promise<Principal> {
  return (headers) => services.principals.authenticate(apiKeyFromHeaders(headers));
}

export type RecoveryJobOutcome =
  | { ok: true; completed: number; failed: 0 }
  | { ok: false; completed: number; failed: number; code: 'INCOMPLETE'; message: string };

/**
 * The recovery job: `recoverPending()` of principals, detection rules, roles,
 * alert review transitions and access reviews on a schedule, so a change staged before a crash (or while the system log
 * was unavailable) takes effect, with its one audit record, even if nobody
 * touches that principal, rule or alert again. Not per log; it walks the
 * whole principal directory, every rule head and every alert item each run.
 */
export function principalsRecoveryJob(
  services: Pick<Services, 'principals' | 'rules' | 'roles' | 'clock'> &
    Partial<Pick<Services, 'alerts' | 'accessReviews'>>,
): ScheduledJob<RecoveryJobOutcome, { completed: number; failed: number }> {
  return {
    name: 'recover',
    clock: services.clock,
    // recoverPending has no deadline of its own; the function's timeout bounds it.
    safetyMs: 0,
    run: async () => {
      const principals = await services.principals.recoverPending();
      const rules = await services.rules.recoverPending();
      const roles = await services.roles.recoverPending();
      const alerts = (await services.alerts?.recoverPending()) ?? { completed: 0, failed: 0 };
      const access = (await services.accessReviews?.recoverPending()) ?? { completed: 0, failed: 0 };
      const completed =
        principals.completed + rules.completed + roles.completed + alerts.completed + access.completed;
      const failed = principals.failed + rules.failed + roles.failed + alerts.failed + access.failed;
      return [
        failed === 0
          ? { ok: true, completed, failed: 0 }
          : {
              ok: false,
              completed,
              failed,
              code: 'INCOMPLETE',
              message: `${failed} staged change(s) (${principals.failed} principal, ${rules.failed} rule, ${roles.failed} role, ${alerts.failed} alert, ${access.failed} access review) could not be completed; the next run retries them`,
            },
      ];
    },
    notable: (o) => o.completed > 0,
    summarize: (outcomes) => ({
      completed: outcomes.reduce((n, o) => n + o.completed, 0),
      failed: outcomes.reduce((n, o) => n + o.failed, 0),
    }),
  };
}
