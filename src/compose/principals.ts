/**
 * Principals (src/app/principals.ts): the admin API (with the detection
 * rules of src/app/rules.ts), the authorizer's API-key check, and the
 * recovery job that completes changes a crash left staged. All three record
 * into, and trust only, the `system` log.
 */
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
