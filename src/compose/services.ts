/**
 * What every API function shares: the log store, the ingest path, and the
 * principals with their audit trail in the `system` log (an API request is
 * authenticated through them, an admin change is recorded through ingest),
 * and the detection rules, whose changes are recorded the same way.
 * Building it does no I/O, so a function that uses part of it pays nothing
 * for the rest.
 */
import { DynamoAccessReviewStore } from '../adapters/aws/dynamo-access-review-store.ts';
import { DynamoLogPolicyStore } from '../adapters/aws/dynamo-log-policy-store.ts';
import { DynamoLogStore } from '../adapters/aws/dynamo-log-store.ts';
import { DynamoPendingStore } from '../adapters/aws/dynamo-pending-store.ts';
import { DynamoPrincipalStore } from '../adapters/aws/dynamo-principal-store.ts';
import { DynamoProducerKeyStore } from '../adapters/aws/dynamo-producer-key-store.ts';
import { DynamoProducerStore } from '../adapters/aws/dynamo-producer-store.ts';
import { DynamoRoleStore } from '../adapters/aws/dynamo-role-store.ts';
import { AccessReviewService } from '../app/access-reviews.ts';
import { SystemLogAuditReader, SystemLogAuditSink } from '../app/admin-audit.ts';
import type { AlertReviewService } from '../app/alerts.ts';
import { StaticCatalogPolicy } from '../app/catalog.ts';
import { type IngestDeps, IngestService } from '../app/ingest.ts';
import { LogAdminService } from '../app/log-admin.ts';
import { CachedLogPolicy, type LogPolicyDefaults, LogPolicyService } from '../app/log-policy.ts';
import { LogRegistry } from '../app/log-registry.ts';
import { apiKeyFromHeaders, type BindingFailure, PrincipalService } from '../app/principals.ts';
import { BoundProducerKeys, type KeyBindingFailure, ProducerKeyService } from '../app/producer-keys.ts';
import { ProducerService } from '../app/producers.ts';
import { RoleService, type UnboundRole } from '../app/roles.ts';
import type { RuleService } from '../app/rules.ts';
import { ScimService } from '../app/scim.ts';
import { type AppConfig, DEFAULT_INGEST_SETTINGS } from '../config.ts';
import { Catalog } from '../core/catalog.ts';
import type { Authenticate } from '../http/router.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import type { LogStore } from '../ports/log-store.ts';
import type { MetricsSink } from '../ports/metrics.ts';
import { createAlertReviewService, dynamoAlertReviewStore } from './alerts.ts';
import { type AwsClients, createAwsClients } from './aws.ts';
import { createRuleService, dynamoRuleStore } from './rules.ts';
import { STARTER_CATALOG_DOCUMENTS } from './starter-catalog.ts';

export interface Services {
  readonly config: AppConfig;
  readonly clients: AwsClients;
  readonly clock: Clock;
  readonly random: (n: number) => Uint8Array;
  readonly logStore: LogStore;
  readonly ingest: IngestService;
  /** The event catalog and each log's mode (docs/events.md). */
  readonly catalog: StaticCatalogPolicy;
  /** Producer streams (`PS#` items): folded by ingest, listed by the read function. */
  readonly producers: ProducerService;
  /** Writes log metadata and the registry: the admin paths only (LogAdminService, the audit sink). */
  readonly logRegistry: LogRegistry;
  readonly principals: PrincipalService;
  /** Creates logs through the admin API, recording `log.create` first. */
  readonly logAdmin: LogAdminService;
  /** Detection rules (`R#` items), every change recorded in the `system` log first. */
  readonly rules: RuleService;
  /** Alert review (`AR#` items), every transition recorded in the `system` log first. */
  readonly alerts: AlertReviewService;
  /** Roles (`G#` items), every change recorded in the `system` log first; authentication reads them. */
  readonly roles: RoleService;
  /** Access reviews (`AV#` items), every start, decision and close recorded in the `system` log first. */
  readonly accessReviews: AccessReviewService;
  /** Producer signing keys (`PK#` items), every change recorded in the `system` log first. */
  readonly producerKeys: ProducerKeyService;
  /** Per-log catalog mode and signature requirement (`M#<logId>` POLICY), every change recorded first. */
  readonly logPolicy: LogPolicyService;
  /** SCIM 2.0 provisioning of human principals by an identity provider (`scim:provision`). */
  readonly scim: ScimService;
  readonly authenticate: Authenticate;
}

export interface ServicesOptions {
  /** Default: made from the config (createAwsClients). */
  readonly clients?: AwsClients;
  readonly clock?: Clock;
  readonly onWarning?: (m: string, cause: unknown) => void;
  /** Where ingest's CatalogProblems metric goes (the Lambdas: EMF on stdout). */
  readonly metrics?: MetricsSink;
  readonly onBindingFailure?: (failure: BindingFailure) => void;
}

/**
 * A principal item that its system-log record does not back: someone wrote
 * `P#<id>` outside PrincipalService. One ERROR line per refused request, with
 * a fixed message to alarm on (docs/operations.md).
 */
function logBindingFailure(f: BindingFailure): void {
  console.error(
    JSON.stringify({ level: 'ERROR', message: 'principal not bound to its system-log record', ...f }),
  );
}

/** A role version its system-log record does not back: it grants nothing; one ERROR line to alarm on. */
function logRoleBindingFailure(f: UnboundRole): void {
  console.error(JSON.stringify({ level: 'ERROR', message: 'role not bound to its system-log record', ...f }));
}

/** A producer key version its system-log record does not back: ingest refuses it; one ERROR line to alarm on. */
function logKeyBindingFailure(f: KeyBindingFailure): void {
  console.error(
    JSON.stringify({ level: 'ERROR', message: 'producer key not bound to its system-log record', ...f }),
  );
}

/** Last use is review evidence, not access control: a failed write is logged and the request goes on. */
function logUseRecordFailure(principalId: string, cause: unknown): void {
  console.warn(
    JSON.stringify({ level: 'WARN', message: 'last use not recorded', principalId, cause: String(cause) }),
  );
}

/** The accept-then-sequence path unless ANCHORLOG_INGEST_MODE=direct (docs/ingest.md §9). */
function pendingPath(config: AppConfig, clients: AwsClients): Pick<IngestDeps, 'pending'> {
  const s = config.ingest ?? DEFAULT_INGEST_SETTINGS;
  if (s.mode !== 'pending') return {};
  return {
    pending: {
      store: new DynamoPendingStore({
        client: clients.ddb,
        tableName: config.tableName,
        shards: s.pendingShards,
      }),
      defaultWaitMs: s.defaultWaitMs,
      maxPendingEntries: s.maxPendingEntries,
    },
  };
}

export function createServices(config: AppConfig, opts: ServicesOptions = {}): Services {
  const clients = opts.clients ?? createAwsClients(config);
  const clock = opts.clock ?? systemClock;
  const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
  const logStore = new DynamoLogStore({ client: clients.ddb, tableName: config.tableName });
  const catalog = new StaticCatalogPolicy(
    Catalog.fromDocuments(STARTER_CATALOG_DOCUMENTS),
    config.catalog.mode,
    config.catalog.modes,
  );
  // The environment's settings are the defaults; a policy set through the admin API overrides them per log.
  const policyDefaults: LogPolicyDefaults = {
    catalogMode: config.catalog.mode,
    catalogModes: config.catalog.modes,
    signatures: config.signaturePolicy ?? new Map(),
  };
  const logPolicyStore = new DynamoLogPolicyStore({ client: clients.ddb, tableName: config.tableName });
  const logPolicies = new CachedLogPolicy(logPolicyStore, policyDefaults, catalog.catalog, clock);
  const producers = new ProducerService({
    store: new DynamoProducerStore({ client: clients.ddb, tableName: config.tableName }),
    clock,
    gapAgeMs: config.catalog.gapAgeSeconds * 1000,
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
  });
  // Ingest reads keys from the store, each version checked against its system-log record
  // (BoundProducerKeys); ProducerKeyService (below) records changes through ingest.
  const producerKeyStore = new DynamoProducerKeyStore({ client: clients.ddb, tableName: config.tableName });
  const auditLog = new SystemLogAuditReader(logStore);
  const ingest = new IngestService({
    signatures: {
      keys: new BoundProducerKeys({
        store: producerKeyStore,
        auditLog,
        clock,
        onBindingFailure: logKeyBindingFailure,
      }),
      policy: logPolicies.signaturePolicy,
    },
    store: logStore,
    clock,
    random,
    limits: config.limits,
    catalog: logPolicies.catalogPolicy,
    ...pendingPath(config, clients),
    producers,
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
    ...(opts.onWarning ? { onWarning: opts.onWarning } : {}),
  });
  const logRegistry = new LogRegistry({ store: logStore, clock });
  const audit = new SystemLogAuditSink(logRegistry, ingest, auditLog);
  const roles = new RoleService({
    store: new DynamoRoleStore({ client: clients.ddb, tableName: config.tableName }),
    audit,
    auditLog,
    clock,
    onBindingFailure: logRoleBindingFailure,
  });
  const principals = new PrincipalService({
    store: new DynamoPrincipalStore({ client: clients.ddb, tableName: config.tableName }),
    clock,
    random,
    audit,
    auditLog,
    onBindingFailure: opts.onBindingFailure ?? logBindingFailure,
    roles,
    keyMaxAgeMs: config.keyMaxAgeMs,
    onUseRecordFailure: logUseRecordFailure,
  });
  const logAdmin = new LogAdminService({ registry: logRegistry, logs: logStore, audit, auditLog, clock });
  const rules = createRuleService({ store: dynamoRuleStore(config, clients), audit, auditLog, clock });
  const alerts = createAlertReviewService({
    store: dynamoAlertReviewStore(config, clients),
    audit,
    auditLog,
    logs: logStore,
    clock,
  });
  const accessReviews = new AccessReviewService({
    store: new DynamoAccessReviewStore({ client: clients.ddb, tableName: config.tableName }),
    audit,
    auditLog,
    principals,
    logs: logStore,
    clock,
    random,
  });
  const producerKeys = new ProducerKeyService({
    store: producerKeyStore,
    audit,
    auditLog,
    clock,
    principals,
  });
  const logPolicy = new LogPolicyService({
    store: logPolicyStore,
    audit,
    auditLog,
    logs: logStore,
    clock,
    defaults: policyDefaults,
  });
  const scim = new ScimService({
    principals,
    ...(config.scimOwnedPrincipals ? { ownedPrincipals: config.scimOwnedPrincipals } : {}),
  });
  const authenticate: Authenticate = (req) => principals.authenticate(apiKeyFromHeaders(req.headers));
  return {
    config,
    clients,
    clock,
    random,
    logStore,
    ingest,
    catalog,
    producers,
    logRegistry,
    principals,
    logAdmin,
    rules,
    alerts,
    roles,
    accessReviews,
    producerKeys,
    logPolicy,
    scim,
    authenticate,
  };
}
