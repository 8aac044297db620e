/**
 * Alert review (src/app/alerts.ts): the service behind the `/v1/admin/alerts…`
 * routes (mounted by adminApi, src/compose/principals.ts), the recovery job's
 * roll-forward of staged transitions, and what delivery opens each recorded
 * alert with. Transitions are recorded through the same `system` log sink as
 * principal, log and rule changes.
 */
import { DynamoAlertReviewStore } from '../adapters/aws/dynamo-alert-review-store.ts';
import { AlertReviewService, type AlertReviewServiceDeps } from '../app/alerts.ts';
import type { AppConfig } from '../config.ts';
import type { AlertReviewStore } from '../ports/alert-review-store.ts';
import type { AwsClients } from './aws.ts';

export function createAlertReviewService(deps: AlertReviewServiceDeps): AlertReviewService {
  return new AlertReviewService(deps);
}

/** The deployed store: `AR#` items on the table (docs/architecture.md "Who may do what"). */
export function dynamoAlertReviewStore(
  config: Pick<AppConfig, 'tableName'>,
  clients: Pick<AwsClients, 'ddb'>,
): AlertReviewStore {
  return new DynamoAlertReviewStore({ client: clients.ddb, tableName: config.tableName });
}
