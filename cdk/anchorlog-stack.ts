/**
 * anchorlog on AWS (docs/architecture.md):
 *
 *   workloads ─▶ HTTP API ─▶ authorizer ─▶ ingest ─▶ DynamoDB
 *   Scheduler ─▶ seal ─▶ tiles, checkpoints ─▶ S3 Object Lock (COMPLIANCE); KMS Sign (seal role only)
 *                    └─▶ (its destination, on success and failure) detect ─▶ alerts into the outbox
 *                          └─▶ (its destination) deliver ─▶ system log, SNS topic, webhooks, Slack, PagerDuty
 *             ─▶ anchor ─▶ RFC 3161 TSAs ─▶ tokens ─▶ S3 Object Lock
 *             ─▶ project ─▶ columnar query index (Parquet in S3; compact hourly) ◀─ query (filters, SQL), Athena
 *             ─▶ recover ─▶ staged principal changes ─▶ system log
 *   auditors ─▶ read API (checkpoint, tiles, proofs, anchors, keys), admin API
 *   browsers ─▶ CloudFront ─▶ console (S3, origin access control);  /v1/* ─▶ the same HTTP API
 *
 * Separation of duties is expressed in the grants below, one line per
 * function, and proved on the synthesized template by test/cdk/.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { CfnCondition, CfnOutput, CfnParameter, Duration, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AdminPlane } from './constructs/admin-plane.ts';
import { AlertDelivery } from './constructs/alert-delivery.ts';
import { ArchiveBuckets } from './constructs/archive-buckets.ts';
import { AuditAlarms } from './constructs/audit-alarms.ts';
import { AuditApi } from './constructs/audit-api.ts';
import { AuditTable } from './constructs/audit-table.ts';
import { ConsoleSite } from './constructs/console-site.ts';
import { JobSchedule } from './constructs/job-schedule.ts';
import { configureStreams } from './constructs/log-streams.ts';
import { QueryIndex } from './constructs/query-index.ts';
import { RekorAnchorKey, rekorContext } from './constructs/rekor-anchor-key.ts';
import { SecurityLakeSources, securityLakeContext } from './constructs/security-lake.ts';
import { REPO_ROOT, ServiceFunction, type ServiceFunctionProps } from './constructs/service-function.ts';
import { ServiceSecret } from './constructs/service-secret.ts';
import { retiredKeyArns, SigningKey } from './constructs/signing-key.ts';
import { retentionDaysParameter } from './retention-floor.ts';
import { API_ROUTES, type ApiFunction, PUBLIC_ROUTES } from './routes.ts';

/** API functions deployed (each needs lambdas/<name>.ts, its routes in cdk/routes.ts and a spec below). */
export const API_FUNCTIONS: readonly ApiFunction[] = [
  'ingest',
  'read',
  'admin',
  'query',
  'export',
  'reindex',
];

/** Context key: the built console to deploy (default dist/console/, built by `npm run build:console`). */
export const CONSOLE_DIR_CONTEXT = 'anchorlog:consoleDir';

/** CloudWatch Logs accepts only these retention values. */
const LOG_RETENTION_VALUES = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

export class AnchorlogStack extends Stack {
  readonly functions: Partial<
    Record<
      | ApiFunction
      | 'authorizer'
      | 'seal'
      | 'detect'
      | 'deliver'
      | 'anchor'
      | 'project'
      | 'recover'
      | 'compact'
      | 'sequence'
      | 'stream',
      ServiceFunction
    >
  > = {};
  /** The console's bucket and distribution (docs/console.md §Where it runs). */
  readonly console: ConsoleSite;
  /** Humans' admin API: IAM (SigV4) with MFA (docs/deploy.md "Admin plane"). */
  readonly adminPlane: AdminPlane;
  /** The columnar query index: its bucket, and Glue + Athena over it (docs/query.md §7). */
  readonly queryIndex: QueryIndex;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, {
      description:
        'anchorlog: tamper-evident audit log (hash chain, Merkle tiles in S3 Object Lock, KMS-signed checkpoints, RFC 3161 anchors)',
      ...props,
    });

    // ---- parameters -------------------------------------------------------
    // Floored at synth time (cdk/retention-floor.ts); the value is chosen at deploy time.
    const retentionDays = retentionDaysParameter(this);
    const originPrefix = new CfnParameter(this, 'OriginPrefix', {
      type: 'String',
      allowedPattern: '^[a-z0-9][a-z0-9.-]*[a-z0-9](/[a-z0-9._-]+)*$',
      description:
        'Checkpoint origin prefix, e.g. audit.example.com; a log origin is <prefix>/<logId>. Verifiers pin it: never change it after the first checkpoint.',
    });
    // Required: the anchor function refuses to start without at least `quorum` TSAs.
    // No credentials here: they go in the TsaCredentials secret (the function refuses an `authorization`).
    const tsaList = new CfnParameter(this, 'TsaList', {
      type: 'String',
      minLength: 2,
      description:
        'RFC 3161 TSAs as a JSON array of {name,url,rootsPem} (ANCHORLOG_TSAS), at least one. Credentials go in the TsaCredentials secret (output TsaCredentialsSecretArn), never here. Lambda environment variables total at most 4 KB.',
    });
    const anchorQuorum = new CfnParameter(this, 'AnchorQuorum', {
      type: 'String',
      default: '',
      allowedPattern: '^[0-9]*$',
      description: 'TSAs that must grant for an anchor to count; empty = min(2, number of TSAs).',
    });
    // Optional: C2SP tlog-witness witnesses the anchor function submits every checkpoint to
    // (docs/witnessing.md). The read function gets the same list, to serve their cosignatures.
    const witnessList = new CfnParameter(this, 'WitnessList', {
      type: 'String',
      default: '',
      description:
        'C2SP witnesses as a JSON array of {name,url,vkey} (ANCHORLOG_WITNESSES; vkey: a cosignature/v1 key, type 0x04); empty = no witnessing.',
    });
    const witnessQuorum = new CfnParameter(this, 'WitnessQuorum', {
      type: 'String',
      default: '',
      allowedPattern: '^[0-9]*$',
      description:
        'Cosignatures a checkpoint needs to count as witnessed; empty = min(2, number of witnesses).',
    });
    // Optional: event classes the sealer indexes (docs/classes.md); empty = none.
    const eventClasses = new CfnParameter(this, 'EventClasses', {
      type: 'String',
      default: '',
      description:
        'Event classes to index (ANCHORLOG_CLASSES): "default" (the AI-platform set) or a JSON array of {name,version,action,actorType?,targetType?}; empty = none.',
    });
    const logRetentionDays = new CfnParameter(this, 'LogRetentionDays', {
      type: 'Number',
      default: 365,
      allowedValues: LOG_RETENTION_VALUES.map(String),
      description: 'CloudWatch Logs retention (days) for function and API access logs.',
    });
    // Maximum API key age per principal kind (docs/access.md "Key expiry"); empty = the default.
    const rotationDays = Object.fromEntries(
      (['Human', 'Application', 'Agent'] as const).map((kind) => [
        kind,
        new CfnParameter(this, `RotationDays${kind}`, {
          type: 'String',
          default: '',
          allowedPattern: '^[0-9]{0,5}$',
          description: `Days a ${kind.toLowerCase()} principal's API key is accepted after its issue or rotation (ANCHORLOG_ROTATION_DAYS_${kind.toUpperCase()}; 0 = no limit); empty = the default in docs/access.md.`,
        }),
      ]),
    ) as Record<'Human' | 'Application' | 'Agent', CfnParameter>;
    // The admin plane (docs/deploy.md "Admin plane"): the bootstrap key is break-glass.
    const breakGlass = new CfnParameter(this, 'BreakGlass', {
      type: 'String',
      default: 'disabled',
      allowedValues: ['disabled', 'enabled'],
      description:
        'Whether the break-glass (bootstrap admin) key is let in on the admin API (ANCHORLOG_BREAK_GLASS). Every use is recorded and alerted either way; keep it disabled except during an incident.',
    });
    const breakGlassPrincipal = new CfnParameter(this, 'BreakGlassPrincipal', {
      type: 'String',
      default: 'ops-admin',
      allowedPattern: '^[a-z0-9][a-z0-9-]{2,62}$',
      description:
        'Principal id of the bootstrap admin (scripts/bootstrap-admin.ts --id): its key is break-glass.',
    });
    /** Break-glass settings: the admin function records and gates each use, the authorizer keeps it to /v1/admin. */
    const breakGlassEnv = {
      ANCHORLOG_BREAK_GLASS: breakGlass.valueAsString,
      ANCHORLOG_BREAK_GLASS_PRINCIPAL: breakGlassPrincipal.valueAsString,
    };
    /** The key-age settings, for every function that authenticates or shows key expiry. */
    const rotationEnv = {
      ANCHORLOG_ROTATION_DAYS_HUMAN: rotationDays.Human.valueAsString,
      ANCHORLOG_ROTATION_DAYS_APPLICATION: rotationDays.Application.valueAsString,
      ANCHORLOG_ROTATION_DAYS_AGENT: rotationDays.Agent.valueAsString,
    };
    const detectionPacks = new CfnParameter(this, 'DetectionPacks', {
      type: 'String',
      default: '',
      allowedPattern: '^[a-z0-9,-]*$',
      description:
        'Built-in detection rule packs the detect function runs, comma-separated (ANCHORLOG_DETECTION_PACKS; docs/detection.md); empty = none.',
    });
    const detectionRules = new CfnParameter(this, 'DetectionRules', {
      type: 'String',
      default: '',
      description:
        'Detection rule documents as a JSON array (ANCHORLOG_DETECTION_RULES), until the rule store serves rules; validated when the detect function starts. Lambda environment variables total at most 4 KB.',
    });
    const alertEmail = new CfnParameter(this, 'AlertEmail', {
      type: 'String',
      default: '',
      description:
        'Optional e-mail address subscribed to the alerts topic (detection alerts; the address must confirm the subscription).',
    });
    const alertHttpsEndpoint = new CfnParameter(this, 'AlertHttpsEndpoint', {
      type: 'String',
      default: '',
      allowedPattern: '^(https://.+)?$',
      description:
        'Optional HTTPS endpoint subscribed to the alerts topic (it receives SNS notifications whose Message is the alert JSON). Other destinations (signed webhooks, Slack, PagerDuty): context anchorlog:alertDestinations, docs/deploy.md.',
    });
    const alarmEmail = new CfnParameter(this, 'AlarmEmail', {
      type: 'String',
      default: '',
      description: 'Optional e-mail address subscribed to the alarm topic.',
    });

    // ---- stores -------------------------------------------------------------
    const table = new AuditTable(this, 'Table');
    const buckets = new ArchiveBuckets(this, 'Buckets', { retentionDays: retentionDays.valueAsNumber });
    // The columnar query index (Parquet per log and day, derived data: no Object Lock) and Athena over it.
    const queryIndex = new QueryIndex(this, 'QueryIndex', { accessLogs: buckets.accessLogs });
    this.queryIndex = queryIndex;
    const signingKey = new SigningKey(this, 'SigningKey');
    // Earlier signing keys whose checkpoints the sealer and anchorer still accept (key rotation).
    const retiredKeys = retiredKeyArns(this);
    // Opt-in Rekor v2 anchoring (docs/deploy.md §Rekor): its own anchor key, never the log key.
    const rekor = rekorContext(this);
    const rekorKey = rekor ? new RekorAnchorKey(this, 'RekorAnchorKey') : undefined;
    // Secrets: generated or set outside the template, read by one function each (docs/deploy.md §Secrets).
    const cursorKey = new ServiceSecret(this, 'QueryCursorKey', {
      description: 'anchorlog: HMAC key that signs query cursors (read by the query function at cold start)',
      value: { generate: 64 },
      noRotationBecause:
        'Rotating the cursor key only invalidates outstanding query cursors (12 h at most); rotate by hand with put-secret-value plus a query function redeploy (docs/operations.md).',
    });
    const tsaCredentials = new ServiceSecret(this, 'TsaCredentials', {
      description:
        'anchorlog: TSA credentials, JSON {"<tsa name>": "<Authorization header value>"} (read by the anchor function at cold start)',
      value: { operatorSets: '{}' },
      noRotationBecause:
        'TSA credentials are issued by each TSA vendor; the operator replaces them with put-secret-value when the vendor rotates them (docs/anchoring.md).',
    });

    const fn = (name: string, p: Omit<ServiceFunctionProps, 'entry' | 'logRetentionDays'>) =>
      new ServiceFunction(this, `${name[0]?.toUpperCase()}${name.slice(1)}`, {
        entry: name,
        logRetentionDays: logRetentionDays.valueAsNumber,
        ...p,
        environment: { ANCHORLOG_ORIGIN_PREFIX: originPrefix.valueAsString, ...p.environment },
      });

    // ---- functions and their grants (least privilege, one place) ------------
    // API functions: settings and grants per function; API_FUNCTIONS picks the deployed ones.
    const apiSpecs: Record<ApiFunction, () => ServiceFunction> = {
      ingest: () => {
        const f = fn('ingest', {
          description: 'POST events: validate, canonicalise, append',
          memorySize: 1024,
        });
        // Appends to every log but the system log (admin's); reads metadata to know a log exists.
        // Folds producer streams (PS#) after each commit: conditional puts, never deletes.
        // Reads producer keys (PK#) to verify event signatures, and the system log's committed records
        // (read only) to check each key version against its registration record (BoundProducerKeys).
        table.grant(
          f,
          {
            'read-write': ['logData'],
            'read-update': ['producers'],
            read: ['logMetadata', 'producerKeys', 'systemLogRecords'],
          },
          { except: ['systemLogData'], exceptReadsIn: ['systemLogRecords'] },
        );
        buckets.archiveNameOnly(f);
        return f;
      },
      read: () => {
        const f = fn('read', {
          description: 'checkpoint, tiles, proofs, anchors, keys, catalog, producer streams',
          // Only to verify and append the archived cosignatures to the served checkpoint.
          environment: { ANCHORLOG_WITNESSES: witnessList.valueAsString },
        });
        table.grant(f, {
          read: ['logData', 'logMetadata', 'logRegistry', 'sealState', 'anchors', 'producers'],
        });
        buckets.grantArchiveRead(f);
        buckets.grantEntryBundleVersionRead(f);
        signingKey.allowPublicKey(f, 'ReadRoleReadsPublicKey');
        return f;
      },
      admin: () => {
        const f = fn('admin', {
          description:
            'principals, roles, logs and detection rules administration (audited in the system log)',
          environment: { ...rotationEnv, ...breakGlassEnv, ANCHORLOG_ADMIN_HUMANS_VIA_IAM: 'true' },
        });
        // Creates logs and principals, and appends their changes to the system log (its only log
        // data). It reads `L#<logId>` itself for the legacy META of logs created before the M#
        // family (re-creating one keeps its createdAt), never another log's records.
        table.grant(
          f,
          {
            read: ['logData', 'principalUsage'],
            'read-write': ['systemLogData'],
            'read-update': [
              'logMetadata',
              'logRegistry',
              'principals',
              'rules',
              'alertReviews',
              'roles',
              'accessReviews',
              'producerKeys',
            ],
          },
          { except: ['logRecords'], exceptUnlessAllIn: ['systemLogData'] },
        );
        buckets.archiveNameOnly(f);
        return f;
      },
      query: () => {
        // DuckDB over Parquet copied to /tmp (at most 256 MiB per request, docs/query.md §7) with a
        // 512 MB memory limit: 2 GB leaves room for both and for the fetched bytes.
        const f = fn('query', {
          description: 'GET events by filters and POST read-only SQL, from the columnar index',
          memorySize: 2048,
          duckdb: true,
        });
        // Reads the index only (files and progress); log existence from the table (legacy META in L#).
        table.grant(f, { read: ['logData', 'logMetadata'] });
        buckets.archiveNameOnly(f);
        queryIndex.grantRead(f);
        cursorKey.grantReadTo(f, 'ANCHORLOG_QUERY_CURSOR_KEY_SECRET');
        return f;
      },
      export: () => {
        // API Gateway cuts a synchronous export at 29 s; CPU scales with memory.
        const f = fn('export', { description: 'evidence-bundle export (synchronous)', memorySize: 2048 });
        // Rekor settings only, to put the archived Rekor entries in bundles; it never signs.
        if (rekor && rekorKey) rekorKey.configure(f, rekor);
        table.grant(f, { read: ['logData', 'logMetadata', 'sealState', 'anchors'] });
        buckets.grantArchiveRead(f);
        buckets.grantExports(f);
        signingKey.allowPublicKey(f, 'ExportRoleReadsPublicKey');
        return f;
      },
      reindex: () => {
        // A rebuild works ~20 s per request (API Gateway cuts at 29 s); the project job carries on.
        const f = fn('reindex', {
          description: "POST index/rebuild: rebuild a log's columnar index from the archive",
          memorySize: 2048,
          duckdb: true,
        });
        // Entry bundles from the archive, the seal state (legacy under L#), the index to rewrite.
        table.grant(f, { read: ['logData', 'logMetadata', 'sealState'] });
        buckets.grantArchiveRead(f);
        queryIndex.grantWrite(f);
        return f;
      },
    };

    const authorizer = fn('authorizer', {
      description: 'HTTP API Lambda authorizer: API key → principal',
      environment: { ...rotationEnv, ...breakGlassEnv },
    });
    // Reads principals, the heads of their roles and the system log records both are bound to;
    // writes only principals' last use (U#), never a principal or a role.
    table.grant(authorizer, {
      read: ['principals', 'roleHeads', 'systemLogRecords'],
      'read-update': ['principalUsage'],
    });
    buckets.archiveNameOnly(authorizer);
    this.functions.authorizer = authorizer;

    // Deliver: the outbox of every log → `alert.*` events in the system log → the alert's destinations
    // (docs/detection.md "Delivery"). Runs after every detect run (its destination) and every 5
    // minutes (due retries; a safety net). It appends to the system log as the recovery function does,
    // reads and acknowledges the outbox (`D#`), records and deletes the health observations (`H#`) of
    // the seal and anchor functions, keeps its own `N#`/`NDL` items, opens each recorded alert for
    // review (`AR#`, create-only puts), publishes to the alerts topic only and reads the
    // destinations' secrets only; it reads no log's records.
    const alertDelivery = new AlertDelivery(this, 'Alerts', {
      email: alertEmail,
      httpsEndpoint: alertHttpsEndpoint,
    });
    const deliver = fn('deliver', {
      description: 'record detection alerts in the system log and deliver them (after every detect run)',
      timeout: Duration.seconds(90),
      retryAttempts: 0,
    });
    table.grant(deliver, {
      'read-write': ['systemLogData', 'health'],
      'read-update': ['systemLogMetadata', 'logRegistry', 'delivery', 'alertReviews'],
      'read-update-batch': ['detection'],
    });
    buckets.archiveNameOnly(deliver);
    alertDelivery.grantDelivery(deliver);
    this.functions.deliver = deliver;

    // Detect: evaluates the newly sealed records of every log against the detection rules, right
    // after every seal run (the seal function's asynchronous-invocation destination, so an alert is
    // in the outbox one seal interval plus one run after the 201: docs/detection.md). Reads records,
    // the registry and seal states; writes its own `D#` items only; no archive, no key.
    const detect = fn('detect', {
      description: 'evaluate newly sealed records against the detection rules (after every seal run)',
      memorySize: 1024,
      timeout: Duration.seconds(60),
      retryAttempts: 0,
      environment: {
        ANCHORLOG_DETECTION_PACKS: detectionPacks.valueAsString,
        ANCHORLOG_DETECTION_RULES: detectionRules.valueAsString,
      },
      afterwards: deliver,
    });
    // `L#<logId>` itself is read for the legacy seal state of a log not sealed since issue #11;
    // `R#` and the system log for the rules the admin API manages (only versions the system log
    // backs run: StoredRuleSource).
    table.grant(detect, {
      read: ['logData', 'logRegistry', 'sealState', 'rules'],
      'read-update-batch': ['detection'],
    });
    buckets.archiveNameOnly(detect);
    this.functions.detect = detect;

    // Seal: reads records, writes tiles and checkpoints (never deletes), the only signer.
    const seal = fn('seal', {
      description: 'seal every log: tiles, entry bundles, signed checkpoint',
      memorySize: 1024,
      timeout: Duration.seconds(60),
      retryAttempts: 0,
      afterwards: detect,
      environment: { ANCHORLOG_CLASSES: eventClasses.valueAsString },
    });
    // It puts health observations (lag, halts) for deliver to record; it never appends to the system log.
    table.grant(seal, {
      read: ['logData', 'logMetadata', 'logRegistry'],
      'read-update': ['sealState', 'health'],
    });
    buckets.grantArchiveSeal(seal);
    signingKey.allowSign(seal);
    SigningKey.allowRetiredPublicKeys(seal, retiredKeys);
    this.functions.seal = seal;

    // Anchor: reads the published checkpoint, writes anchor records and time-stamp tokens.
    const anchor = fn('anchor', {
      description: 'time-stamp the newest checkpoint of every log with the RFC 3161 TSAs',
      timeout: Duration.minutes(2),
      retryAttempts: 0,
      environment: {
        ANCHORLOG_TSAS: tsaList.valueAsString,
        ANCHORLOG_ANCHOR_QUORUM: anchorQuorum.valueAsString,
        ANCHORLOG_WITNESSES: witnessList.valueAsString,
        ANCHORLOG_WITNESS_QUORUM: witnessQuorum.valueAsString,
      },
    });
    // `L#<logId>` itself is read for the legacy seal state, META and anchor items older deployments
    // keep there (docs/architecture.md); the records under it are not the anchorer's business.
    table.grant(
      anchor,
      {
        read: ['logData', 'logMetadata', 'logRegistry', 'sealState'],
        'read-update': ['anchors', 'health', 'witnessState'],
      },
      { except: ['logRecords'] },
    );
    buckets.grantArchiveAnchor(anchor);
    // It stamps the archive's checkpoint only once the log key verifies it (GetPublicKey only).
    signingKey.allowPublicKey(anchor, 'AnchorRoleReadsPublicKey');
    SigningKey.allowRetiredPublicKeys(anchor, retiredKeys);
    tsaCredentials.grantReadTo(anchor, 'ANCHORLOG_TSA_CREDENTIALS_SECRET');
    // With Rekor on: Sign on the anchor key (its only signer) and the ANCHORLOG_REKOR_* settings.
    if (rekor && rekorKey) rekorKey.allowAnchor(anchor, rekor);
    this.functions.anchor = anchor;

    // Query projector: newly sealed records (archive entry bundles) → Parquet in the index bucket,
    // then compacts the days it closed. Never signs; writes nothing but the index.
    const project = fn('project', {
      description: 'project newly sealed records of every log into the columnar query index',
      memorySize: 2048,
      timeout: Duration.seconds(60),
      retryAttempts: 0,
      duckdb: true,
    });
    table.grant(project, { read: ['logData', 'logMetadata', 'logRegistry', 'sealState'] });
    buckets.grantArchiveRead(project);
    queryIndex.grantWrite(project);
    this.functions.project = project;
    // Opt-in (context anchorlog:securityLake): OCSF Parquet into Amazon Security Lake custom sources.
    const securityLake = securityLakeContext(this);
    if (securityLake)
      new SecurityLakeSources(this, 'SecurityLake', { settings: securityLake, project, buckets });

    // Compaction: merges each log's closed days into one file (hourly); the index bucket only.
    const compact = fn('compact', {
      description: 'compact the columnar query index: merge the small files of closed days',
      memorySize: 2048,
      timeout: Duration.minutes(5),
      retryAttempts: 0,
      duckdb: true,
    });
    table.grant(compact, { read: ['logRegistry'] });
    buckets.archiveNameOnly(compact);
    queryIndex.grantWrite(compact);
    this.functions.compact = compact;

    // Recovery: completes principal and rule changes staged but not recorded (recoverPending of
    // PrincipalService and RuleService). It records them in the system log and promotes them: the
    // admin function's grants, narrowed to the system log's own metadata, and never another log's
    // partition.
    const recover = fn('recover', {
      description:
        'complete principal, role, rule, alert review and access review changes a crash left staged (recorded in the system log)',
      timeout: Duration.seconds(60),
      retryAttempts: 0,
    });
    table.grant(recover, {
      'read-write': ['systemLogData'],
      'read-update': [
        'systemLogMetadata',
        'logRegistry',
        'principals',
        'rules',
        'alertReviews',
        'roles',
        'accessReviews',
      ],
    });
    buckets.archiveNameOnly(recover);
    this.functions.recover = recover;

    // The pending sweep (docs/ingest.md §9): sequences entries answered 202 on logs no later
    // request reaches. Ingest's own grants (it commits batches exactly as a request's run does),
    // plus reading the log registry to know the logs. Does nothing on the direct ingest path.
    const sequence = fn('sequence', {
      description: 'sequence pending ingest entries of every log (the sweep behind Prefer: wait=0)',
      memorySize: 1024,
      timeout: Duration.seconds(60),
      retryAttempts: 0,
    });
    table.grant(
      sequence,
      {
        'read-write': ['logData'],
        'read-update': ['producers'],
        read: ['logMetadata', 'producerKeys', 'logRegistry'],
      },
      { except: ['systemLogData'] },
    );
    buckets.archiveNameOnly(sequence);
    this.functions.sequence = sequence;
    // Streams: each log's sealed records → its SIEMs and buckets (docs/streams.md), every minute.
    // Reads records and seal states, keeps its own cursors and dead letters (`SC#`, `SDL`), reads
    // the secrets its streams name and puts objects under their S3 prefixes only; no archive, no key.
    const stream = fn('stream', {
      description:
        'deliver the sealed records of each log to its streams (Splunk HEC, Datadog, webhooks, S3)',
      timeout: Duration.seconds(120),
      retryAttempts: 0,
    });
    table.grant(stream, { read: ['logData', 'logRegistry', 'sealState'], 'read-update': ['streams'] });
    buckets.archiveNameOnly(stream);
    configureStreams(this, stream);
    this.functions.stream = stream;

    // ---- HTTP API: the route table in cdk/routes.ts ---------------------------
    const api = new AuditApi(this, 'Api', {
      authorizer,
      logRetentionDays: logRetentionDays.valueAsNumber,
      publicRoutes: PUBLIC_ROUTES,
    });
    for (const name of API_FUNCTIONS) {
      if (!existsSync(path.join(REPO_ROOT, 'lambdas', `${name}.ts`)))
        throw new Error(`API_FUNCTIONS names ${name} but lambdas/${name}.ts does not exist`);
      const f = apiSpecs[name]();
      this.functions[name] = f;
      api.route(f, API_ROUTES[name]);
    }

    // ---- admin plane for humans: IAM (SigV4) with MFA (docs/deploy.md "Admin plane") ----
    const adminFn = this.functions.admin;
    if (!adminFn) throw new Error('the admin function must exist before the admin plane');
    const adminPlane = new AdminPlane(this, 'AdminPlane', {
      admin: adminFn,
      routes: API_ROUTES.admin.filter((k) => k.split(' ')[1]?.startsWith('/v1/admin/')),
      logRetentionDays: logRetentionDays.valueAsNumber,
    });
    this.adminPlane = adminPlane;

    // ---- console: S3 + CloudFront, the API under /v1/* on the same origin ------
    const consoleDir =
      this.node.tryGetContext(CONSOLE_DIR_CONTEXT) ?? path.join(REPO_ROOT, 'dist', 'console');
    if (typeof consoleDir !== 'string')
      throw new Error(`context ${CONSOLE_DIR_CONTEXT} must be a directory path`);
    this.console = new ConsoleSite(this, 'Console', {
      sourceDir: path.resolve(REPO_ROOT, consoleDir),
      api: api.api,
      accessLogs: buckets.accessLogs,
      logRetentionDays: logRetentionDays.valueAsNumber,
    });

    // ---- schedules ----------------------------------------------------------
    new JobSchedule(this, 'SealSchedule', {
      target: seal,
      every: Duration.minutes(1),
      description: 'anchorlog: seal every log',
    });
    new JobSchedule(this, 'ProjectSchedule', {
      target: project,
      every: Duration.minutes(1),
      description: 'anchorlog: project newly sealed records into the columnar query index',
    });
    new JobSchedule(this, 'CompactSchedule', {
      target: compact,
      every: Duration.hours(1),
      description: 'anchorlog: merge the small files of closed days in the columnar query index',
    });
    new JobSchedule(this, 'AnchorSchedule', {
      target: anchor,
      every: Duration.minutes(5),
      description: 'anchorlog: anchor the newest checkpoints',
    });
    new JobSchedule(this, 'DeliverSchedule', {
      target: deliver,
      every: Duration.minutes(5),
      description: 'anchorlog: deliver alerts whose retry is due (deliver also runs after every detect run)',
    });
    new JobSchedule(this, 'SequenceSchedule', {
      target: sequence,
      every: Duration.minutes(1),
      description: 'anchorlog: sequence pending ingest entries no request has sequenced',
    });
    new JobSchedule(this, 'StreamSchedule', {
      target: stream,
      every: Duration.minutes(1),
      description:
        'anchorlog: deliver newly sealed records to the log streams; retry blocked streams when due',
    });
    new JobSchedule(this, 'RecoverSchedule', {
      target: recover,
      every: Duration.minutes(5),
      description: 'anchorlog: complete principal and rule changes a crash left staged',
    });

    // ---- alarms -------------------------------------------------------------
    const alarms = new AuditAlarms(this, 'Alarms');
    alarms.watchSeal(seal);
    alarms.watchDetection(detect);
    alarms.watchDelivery(deliver);
    alarms.watchAnchor(anchor);
    alarms.watchProjector(project);
    alarms.watchRecovery(recover);
    alarms.watchCompaction(compact);
    alarms.watchSequenceSweep(sequence);
    alarms.watchStreams(stream);
    alarms.watchApi(api.api);
    alarms.watchTable(table.table);
    alarms.watchTampering(signingKey.key, buckets.archive);
    if (rekorKey) alarms.watchRekorKey(rekorKey.key);
    const hasEmail = new CfnCondition(this, 'HasAlarmEmail', {
      expression: Fn.conditionNot(Fn.conditionEquals(alarmEmail.valueAsString, '')),
    });
    alarms.subscribeEmail(alarmEmail.valueAsString, hasEmail);

    // ---- outputs ------------------------------------------------------------
    new CfnOutput(this, 'ApiUrl', { value: api.url });
    new CfnOutput(this, 'AdminApiUrl', { value: adminPlane.url });
    new CfnOutput(this, 'AdminRoleArn', { value: adminPlane.role.roleArn });
    new CfnOutput(this, 'ConsoleUrl', {
      value: this.console.url,
      description: 'The console (docs/console.md); the API is also served there under /v1/',
    });
    new CfnOutput(this, 'TableName', { value: table.table.tableName });
    new CfnOutput(this, 'ArchiveBucketName', { value: buckets.archive.bucketName });
    new CfnOutput(this, 'ExportsBucketName', { value: buckets.exports.bucketName });
    new CfnOutput(this, 'SigningKeyArn', { value: signingKey.key.keyArn });
    new CfnOutput(this, 'IndexBucketName', { value: queryIndex.bucket.bucketName });
    new CfnOutput(this, 'AthenaWorkGroup', {
      value: queryIndex.workGroup.ref,
      description: `Athena workgroup over the index (Glue database ${queryIndex.databaseName}, view and sample queries saved; docs/query.md §Athena)`,
    });
    if (rekorKey)
      new CfnOutput(this, 'RekorAnchorKeyArn', {
        value: rekorKey.key.keyArn,
        description: 'The Rekor anchor key: publish its public key for TRUST.json rekor.anchorKeys',
      });
    new CfnOutput(this, 'TsaCredentialsSecretArn', { value: tsaCredentials.secret.secretArn });
    new CfnOutput(this, 'AlarmTopicArn', { value: alarms.topic.topicArn });
    new CfnOutput(this, 'AlertsTopicArn', { value: alertDelivery.topic.topicArn });
  }
}
