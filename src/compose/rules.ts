/**
 * Detection rule management (src/app/rules.ts): the service behind the
 * `/v1/admin/rules…` routes (mounted by adminApi, src/compose/principals.ts),
 * the recovery job's roll-forward of staged rule changes, and what the
 * evaluation job loads (`boundRules`). Its changes are recorded through
 * the same `system` log sink as principal and log changes.
 */
import { DynamoRuleStore } from '../adapters/aws/dynamo-rule-store.ts';
import type { AdminAuditLog, AdminAuditSink } from '../app/principals.ts';
import { RuleService } from '../app/rules.ts';
import type { AppConfig } from '../config.ts';
import type { Clock } from '../ports/clock.ts';
import type { RuleStore } from '../ports/rule-store.ts';
import type { AwsClients } from './aws.ts';

/**
 * The rule service over any RuleStore, audit sink and reader of the system
 * log (the reader backs `boundRules`, what the evaluation job loads).
 */
export function createRuleService(deps: {
  store: RuleStore;
  audit: AdminAuditSink;
  auditLog: AdminAuditLog;
  clock: Clock;
}): RuleService {
  return new RuleService(deps);
}

/** The deployed rule store: `R#` items on the table (the admin role writes them; docs/architecture.md). */
export function dynamoRuleStore(
  config: Pick<AppConfig, 'tableName'>,
  clients: Pick<AwsClients, 'ddb'>,
): RuleStore {
  return new DynamoRuleStore({ client: clients.ddb, tableName: config.tableName });
}
