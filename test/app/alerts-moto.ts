/**
 * Alert review as deployed, on one moto table: AlertReviewService over
 * DynamoAlertReviewStore, recording into the `system` log through
 * SystemLogAuditSink → IngestService → DynamoLogStore (the rules harness,
 * with its bootstrapped admin). `fire` records an alert the way delivery
 * does (alert.fire, then open).
 */
import { DynamoAlertReviewStore } from '../../src/adapters/aws/dynamo-alert-review-store.ts';
import { AlertReviewService, type AlertReviewServiceDeps } from '../../src/app/alerts.ts';
import { alertEvent } from '../../src/core/deliver/events.ts';
import type { AlertDocument } from '../../src/core/detect/alert.ts';
import type { Principal, ScopeMap } from '../../src/core/principal.ts';
import { alertOf, CHECKPOINT } from './deliver-harness.ts';
import { type RulesOnMoto, rulesOnMoto } from './rules-moto.ts';

export interface AlertsOnMoto extends RulesOnMoto {
  reviews: DynamoAlertReviewStore;
  alerts: AlertReviewService;
  /** Another service over the same table (a second Lambda container), with options. */
  service(extra?: Partial<AlertReviewServiceDeps>): AlertReviewService;
  /** Records alert `n` of `logId` in the system log; opens it unless `open: false`. */
  fire(
    n: number,
    opts?: { logId?: string; open?: boolean; over?: Partial<AlertDocument> },
  ): Promise<AlertDocument>;
  /** A principal with these scopes, created through the admin path. */
  reviewer(id: string, scopes: ScopeMap): Promise<Principal>;
}

export async function alertsOnMoto(name: string): Promise<AlertsOnMoto> {
  const env = await rulesOnMoto(name);
  const reviews = new DynamoAlertReviewStore({ client: env.ddb, tableName: env.table });
  const service = (extra: Partial<AlertReviewServiceDeps> = {}) =>
    new AlertReviewService({
      store: reviews,
      audit: env.sink,
      auditLog: env.auditLog,
      logs: env.logs,
      clock: env.clock,
      ...extra,
    });
  const alerts = service();
  return {
    ...env,
    reviews,
    alerts,
    service,
    async fire(n, opts = {}) {
      const alert = alertOf(opts.logId ?? 'acme', n, opts.over ?? {});
      await env.sink.record(
        alertEvent({ entry: { type: 'alert', id: alert.id, alert }, checkpoint: CHECKPOINT }),
      );
      if (opts.open !== false) await alerts.open(alert);
      return alert;
    },
    async reviewer(id, scopes) {
      const r = await env.principals.create(env.admin, {
        id,
        name: `Reviewer ${id}`,
        kind: 'human',
        owner: 'secops@example.com',
        purpose: 'reviews alerts',
        scopes,
      });
      return r.principal;
    },
  };
}
