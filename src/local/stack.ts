/**
 * The local stack: everything `npm start` runs, as a function so end-to-end
 * tests can start the very same thing. It starts (or reuses) the AWS
 * emulator, two OpenSSL TSAs and two C2SP witnesses, creates the table, the Object Lock archive
 * bucket and the KMS signing key, composes the API and the scheduled jobs
 * through the same functions as the Lambdas (src/compose/), bootstraps an
 * admin and a demo principal, serves the API over HTTP, and runs the jobs on
 * a timer (the cloud's EventBridge schedules).
 */

import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { anchorJob } from '../compose/anchor.ts';
import { createAwsClients, loadLogPublicKeys } from '../compose/aws.ts';
import { createDeliveryService, deliverJob } from '../compose/deliver.ts';
import { detectJob } from '../compose/detect.ts';
import { exportApi } from '../compose/export.ts';
import { ingestApi, pendingSweepJob } from '../compose/ingest.ts';
import { createLocalRekorAnchorKey, provisionEmulator, putLocalSecret } from '../compose/local.ts';
import { emfMetrics } from '../compose/metrics.ts';
import { classMonitor } from '../compose/monitor.ts';
import { adminApi, principalsRecoveryJob } from '../compose/principals.ts';
import { projectJob, queryApi, reindexApi } from '../compose/query.ts';
import { readApi } from '../compose/read.ts';
import { BUILTIN_RULE_PACKS } from '../compose/rule-packs.ts';
import { sealJob } from '../compose/seal.ts';
import { createServices, type Services } from '../compose/services.ts';
import { createStreamService, streamJob } from '../compose/streams.ts';
import { witnessLedgerOnTable } from '../compose/witness.ts';
import { type AppConfig, DEFAULT_KEY_MAX_AGE_DAYS, DEFAULT_LIMITS, type IngestSettings } from '../config.ts';
import { DEFAULT_AI_CLASSES } from '../core/classes/definition.ts';
import { parseDeliveryRouting } from '../core/deliver/destinations.ts';
import { DEFAULT_SEAL_LAG_THRESHOLD_SECONDS } from '../core/health.ts';
import { verifierFromSpki } from '../core/note/verifiers.ts';
import { KEY_EXPIRY_INTRODUCED_MS, SYSTEM_LOG_ID } from '../core/principal.ts';
import { parseStreams } from '../core/streams/spec.ts';
import { createRouter, type Route } from '../http/router.ts';
import { json } from '../http/types.ts';
import { type JobContext, type JobLogLine, scheduledJob } from '../jobs/scheduled-job.ts';
import type { MetricsSink } from '../ports/metrics.ts';
import { type AlertReceiver, startAlertReceiver } from './alert-receiver.ts';
import { type HecReceiver, startHecReceiver } from './hec-receiver.ts';
import { startHttpServer } from './http-server.ts';
import { type MotoServer, startMoto } from './moto.ts';
import { startLocalRekor } from './rekor.ts';
import { ensureTsaPki, rootsPem } from './tsa/pki.ts';
import { type LocalTsa, startLocalTsa } from './tsa/server.ts';
import { type LocalWitness, startLocalWitness } from './witness.ts';

export interface LocalStackOptions {
  /** Directory for generated state (TSA PKI, local-stack.json). */
  stateDir: string;
  host?: string;
  /** API port; 0 picks a free one. Default 8787. */
  port?: number;
  /** Use this emulator instead of starting one (tests share the harness's). */
  awsEndpoint?: string;
  logId?: string;
  /** Run the scheduled jobs every N ms; 0 disables the timer (tests call sealNow, anchorNow, recoverNow). */
  sealIntervalMs?: number;
  retentionDays?: number;
  /**
   * Rule documents detection runs besides every built-in pack and the rules
   * the admin API stores (`anchorlog rules apply`). Invalid ones stop the
   * stack at start, like a detect function's cold start.
   */
  detectionRules?: readonly unknown[];
  /**
   * ANCHORLOG_ALERT_DESTINATIONS for the deliver job (a JSON document with
   * secret *names* in the emulator). Default: the local alert receiver, as the
   * destination of every alert.
   */
  alertDestinations?: string;
  /** The event catalog's mode (docs/events.md §Modes); default warn. */
  catalogMode?: 'enforce' | 'warn' | 'off';
  /** The ingest path (docs/ingest.md §9); default DEFAULT_INGEST_SETTINGS (direct). */
  ingest?: IngestSettings;
  log?: (line: string) => void;
  /** Serve this directory (the built console, dist/console/) at /console/ (docs/console.md). */
  consoleDir?: string;
  /**
   * false: sealNow does not also project into the columnar index (bench:cost calls projectNow
   * itself, to meter the project function apart from the seal function). Default true.
   */
  projectAfterSeal?: boolean;
}

export interface LocalStackInfo {
  apiUrl: string;
  /** The console's URL when consoleDir was given. */
  consoleUrl?: string;
  apiKey: string;
  adminKey: string;
  logId: string;
  awsEndpoint: string;
  archiveBucket: string;
  tableName: string;
  tsaRoots: string;
  tsaUrls: string[];
  signingKeyId: string;
  /** Where the local alert receiver listens (the default destination of every alert). */
  alertReceiverUrl: string;
  /** The two local C2SP tlog-witness witnesses (src/local/witness.ts): submission prefixes. */
  witnessUrls: string[];
  /** Their cosigner vkeys (type 0x04): what `anchorlog trust --witness` pins. */
  witnessVkeys: string[];
  /** The local Rekor v2 stand-in (src/local/rekor.ts): base URL, its log vkey, the anchor key's KMS ID. */
  rekorUrl: string;
  rekorVkey: string;
  rekorAnchorKeyId: string;
  /** The local Splunk HEC stand-in (src/local/hec-receiver.ts): the demo log's stream `local-hec` goes there. */
  hecReceiverUrl: string;
}

export interface LocalStack {
  info: LocalStackInfo;
  services: Services;
  /**
   * Seals every log, evaluates the newly sealed records against the detection
   * rules (alerts into the outbox), then projects them into the query indexes
   * (what the timer does first).
   */
  sealNow(): Promise<void>;
  /**
   * Anchors every log's newest checkpoint with both local TSAs, then submits it to both local
   * witnesses, once (the timer does this after sealing).
   */
  anchorNow(): Promise<void>;
  /** Completes principal changes a crash left staged (the timer does this last). */
  recoverNow(): Promise<void>;
  /** Delivers what is in the outbox (sealNow does this after detection). */
  deliverNow(): Promise<void>;
  /** Projects newly sealed records into the columnar index and compacts (sealNow does this last). */
  projectNow(): Promise<void>;
  /** The local webhook receiver: verifies signatures, prints and keeps delivered alerts. */
  alerts: AlertReceiver;
  /** The local Splunk HEC stand-in the demo log streams to (docs/streams.md). */
  hec: HecReceiver;
  /** Runs every stream once (the timer runs it after each projection). */
  streamNow(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The Lambda context the local jobs run with: as long as Lambda ever allows
 * (15 minutes), so a local run is not cut short where a deployed one would
 * simply continue on the next schedule.
 */
const LOCAL_JOB_CONTEXT: JobContext = { getRemainingTimeInMillis: () => 15 * 60_000 };

const DEMO_PRINCIPAL = 'demo-agent-platform';

export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const log = opts.log ?? (() => {});
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
  };
  try {
    mkdirSync(opts.stateDir, { recursive: true });
    let moto: MotoServer | undefined;
    let awsEndpoint = opts.awsEndpoint;
    if (!awsEndpoint) {
      log('starting the AWS emulator (moto_server)…');
      moto = await startMoto();
      stops.push(() => (moto as MotoServer).stop());
      awsEndpoint = moto.endpoint;
    }

    log('starting two RFC 3161 TSAs (OpenSSL: ECDSA/ESSCertIDv2 and RSA/ESSCertIDv1)…');
    const pkis = (['ecdsa', 'rsa'] as const).map((f) => ensureTsaPki(join(opts.stateDir, 'tsa'), f));
    const tsas: LocalTsa[] = await Promise.all(pkis.map((p) => startLocalTsa(p)));
    for (const t of tsas) stops.push(() => t.close());
    const tsaRootsPath = join(opts.stateDir, 'tsa-roots.pem');
    writeFileSync(tsaRootsPath, rootsPem(pkis));

    const base: AppConfig = {
      aws: { region: 'us-east-1', endpoint: awsEndpoint },
      tableName: 'anchorlog',
      archiveBucket: 'anchorlog-archive',
      exportsBucket: 'anchorlog-exports',
      indexBucket: 'anchorlog-index',
      originPrefix: 'anchorlog.local',
      limits: DEFAULT_LIMITS,
      ...(opts.ingest ? { ingest: opts.ingest } : {}),
      // The deployed defaults, so expiry behaves locally as it will in production.
      keyMaxAgeMs: {
        human: DEFAULT_KEY_MAX_AGE_DAYS.human * 86_400_000,
        application: DEFAULT_KEY_MAX_AGE_DAYS.application * 86_400_000,
        agent: DEFAULT_KEY_MAX_AGE_DAYS.agent * 86_400_000,
        countFrom: KEY_EXPIRY_INTRODUCED_MS,
      },
      tsas: tsas.map((t) => ({ name: `local-${t.pki.flavour}`, url: t.url, rootsPem: rootsPem([t.pki]) })),
      anchorQuorum: 2,
      healthSealLagSeconds: DEFAULT_SEAL_LAG_THRESHOLD_SECONDS,
      retiredSigningKeys: [],
      // warn (the default): a local producer sees its events' catalog problems in the receipts.
      catalog: { mode: opts.catalogMode ?? 'warn', modes: new Map(), gapAgeSeconds: 300 },
      // The default AI-platform classes (docs/classes.md), as ANCHORLOG_CLASSES=default: the
      // sample request (`anchorlog export --class access`) works against the demo.
      classes: [...DEFAULT_AI_CLASSES],
    };
    const clients = createAwsClients(base);
    log('creating the table, the Object Lock archive bucket, the KMS signing key and the cursor key…');
    const provisioned = await provisionEmulator(base, clients, { retentionDays: opts.retentionDays ?? 1 });
    // The team's endpoint, locally: a receiver that verifies each alert's Standard Webhooks
    // signature and prints it. Its secret is in the emulator's Secrets Manager, read by the
    // deliver job as a deployed function reads its destinations' secrets.
    const alerts = await startAlertReceiver({ print: log });
    stops.push(() => alerts.close());
    const receiverSecret = await putLocalSecret(base, 'anchorlog/local-alert-receiver', alerts.secret);
    // A SIEM, locally: a Splunk HEC stand-in the demo log streams to (docs/streams.md). Its
    // token is in the emulator's Secrets Manager, read by the stream job as a deployed one is.
    const hec = await startHecReceiver({ host: opts.host ?? '127.0.0.1', print: log });
    stops.push(() => hec.close());
    const hecSecret = await putLocalSecret(base, 'anchorlog/local-hec-token', hec.token);
    // Two witnesses, as in a deployment that submits to two independent operators. They trust the
    // log key for every origin under the local prefix; their state and keys last one run, like
    // the emulator's (a fresh log each start).
    log('starting two C2SP tlog-witness witnesses…');
    const logSpki = (
      await loadLogPublicKeys({ ...base, signingKeyId: provisioned.signingKeyId }, clients.kms)
    )[0] as Uint8Array;
    const witnesses: LocalWitness[] = [];
    for (const n of ['a', 'b']) {
      // Each keeps its state in a table of its own on the emulator, through the DynamoDB store
      // and the HTTP handling the Lambda witness runs (lambdas/witness.ts).
      const w = await startLocalWitness({
        keyName: `witness-${n}.anchorlog.local`,
        secretKey: randomBytes(32),
        store: await witnessLedgerOnTable(clients.ddb, `${base.tableName}-witness-${n}`),
        logs: (origin) =>
          origin.startsWith(`${base.originPrefix}/`) ? [verifierFromSpki(origin, logSpki)] : undefined,
        host: opts.host ?? '127.0.0.1',
      });
      stops.push(() => w.close());
      witnesses.push(w);
    }
    // A Rekor v2 stand-in (production Rekor is not reachable from a local stack); the anchor job
    // submits each checkpoint to it, signed with an anchor key of its own in the emulator's KMS.
    log('starting a Rekor v2 stand-in…');
    const rekor = await startLocalRekor({ origin: 'rekor.anchorlog.local', host: opts.host ?? '127.0.0.1' });
    stops.push(() => rekor.close());
    const rekorAnchorKeyId = await createLocalRekorAnchorKey(clients);
    const config: AppConfig = {
      ...base,
      rekor: { name: 'local-rekor', url: rekor.url, logKeys: [rekor.logKey], anchorKeyId: rekorAnchorKeyId },
      witnesses: witnesses.map((w, i) => ({
        name: `local-witness-${i === 0 ? 'a' : 'b'}`,
        url: w.url,
        cosigner: w.cosigner,
      })),
      witnessQuorum: 2,
      signingKeyId: provisioned.signingKeyId,
      secrets: { queryCursorKey: provisioned.cursorKeySecret },
      detection: { packs: Object.keys(BUILTIN_RULE_PACKS), rules: opts.detectionRules ?? [] },
      alertRouting: parseDeliveryRouting(
        opts.alertDestinations ??
          JSON.stringify({
            destinations: [
              { name: 'local-receiver', kind: 'webhook', url: alerts.url, secret: receiverSecret },
            ],
            default: ['local-receiver'],
          }),
      ),
      streams: parseStreams(
        JSON.stringify({
          streams: [
            {
              name: 'local-hec',
              logId: opts.logId ?? 'demo',
              kind: 'splunk-hec',
              url: hec.url,
              secret: hecSecret,
            },
          ],
        }),
      ),
    };
    const services = createServices(config, {
      clients,
      onWarning: (m, cause) => log(`warning: ${m}: ${String(cause)}`),
    });

    const logId = opts.logId ?? 'demo';
    await services.logRegistry.createLog(SYSTEM_LOG_ID);
    const admin = await services.principals.bootstrapAdmin({
      id: 'local-admin',
      name: 'Local administrator',
      owner: 'local stack',
    });
    if (!admin.apiKey) throw new Error('admin principal already existed without a key to show');
    // Through the admin path, as in AWS: the demo log's creation is recorded in the system log.
    await services.logAdmin.createLog(admin.principal, logId);
    const demo = await services.principals.create(admin.principal, {
      id: DEMO_PRINCIPAL,
      name: 'Demo AI platform',
      kind: 'application',
      owner: 'local-admin',
      purpose: 'sends the demo stream of agent, tool and configuration events',
      scopes: { [logId]: ['events:write', 'events:read', 'proofs:read', 'export'] },
    });

    const routes: Route[] = [
      {
        method: 'GET',
        pattern: '/v1/health',
        auth: 'public',
        handle: async () => json(200, { ok: true }),
      },
      ...ingestApi(services),
      ...(await queryApi(services)),
      ...reindexApi(services),
      ...adminApi(services),
      ...readApi(services),
      ...exportApi(services),
    ];
    const dispatch = createRouter(routes, {
      authenticate: services.authenticate,
      logger: { error: (m, f) => log(`error: ${m} ${JSON.stringify(f)}`) },
    });
    const server = await startHttpServer(dispatch, {
      host: opts.host ?? '127.0.0.1',
      port: opts.port ?? 8787,
      maxBodyBytes: config.limits.maxBodyBytes,
      ...(opts.consoleDir ? { static: { prefix: '/console/', dir: opts.consoleDir } } : {}),
    });
    stops.push(() => server.close());

    // The scheduled jobs, composed and wrapped as the Lambdas are. Locally only what would
    // page someone is printed: WARN and ERROR lines, and the metrics of a TSA failure or a
    // missed quorum.
    const emf = emfMetrics((line) => log(`metric ${line.trimEnd()}`));
    const metrics: MetricsSink = {
      emit: (e) => {
        if (
          e.metrics.some(
            (m) =>
              /Failure|Missed|DetectionAlerts|DetectionRuleErrors|DeadLettered|Unrouted|StreamDeadLetters|StreamBlocked/.test(
                m.name,
              ) && m.value > 0,
          )
        )
          emf.emit(e);
      },
    };
    const jobLog = (line: JobLogLine) => {
      if (line.level !== 'INFO') log(JSON.stringify(line));
    };
    const jobs = {
      seal: scheduledJob(sealJob(services, { metrics }), jobLog),
      detect: scheduledJob(detectJob(services, { metrics }), jobLog),
      deliver: scheduledJob(deliverJob(services, await createDeliveryService(services, { metrics })), jobLog),
      project: scheduledJob(projectJob(services), jobLog),
      anchor: scheduledJob(await anchorJob(services, { metrics }), jobLog),
      stream: scheduledJob(streamJob(services, await createStreamService(services, { metrics })), jobLog),
      recover: scheduledJob(principalsRecoveryJob(services), jobLog),
      sequence: scheduledJob(pendingSweepJob(services), jobLog),
    };
    // Every log, including ones created later through the admin API (an empty input). Detection
    // runs right after each seal run, as the detect function does after the seal function in AWS,
    // so an alert is in the outbox within a tick of the 201 that triggered it.
    // Delivery runs right after detection, as the deliver function does after the detect function.
    const deliverNow = async () => {
      await jobs.deliver({}, LOCAL_JOB_CONTEXT);
    };
    // seal → detect → deliver: the chain an alert travels (Lambda destinations in AWS).
    // One run of a chain at a time, whether the timer or a caller (tests, the demo) starts it: two
    // seal (or projection) runs of one log at once would race on its state, and the loser reports
    // a failed run.
    const serial = (f: () => Promise<unknown>): (() => Promise<void>) => {
      let tail: Promise<void> = Promise.resolve();
      return () => {
        const run = tail.then(f).then(() => undefined);
        tail = run.catch(() => undefined);
        return run;
      };
    };
    // The class monitor after every seal (docs/classes.md §Monitor): each log's class roots are
    // recomputed from its records, from the size checked last time. A divergence is printed; it
    // never stops the chain (the monitor is an observer, as an auditor's would be).
    const monitorAll = classMonitor(services, [logSpki]);
    const monitorNow = async () => {
      for (const r of await monitorAll()) {
        const d = r.report?.divergence;
        if (d)
          log(`class monitor: log ${r.logId}: DIVERGENCE at checkpoint ${d.checkpointSize}: ${d.reason}`);
        if (r.error) log(`class monitor: log ${r.logId}: ${r.error}`);
      }
    };
    const sealChain = serial(() =>
      jobs
        .seal({}, LOCAL_JOB_CONTEXT)
        .finally(() => jobs.detect({}, LOCAL_JOB_CONTEXT).finally(deliverNow))
        .finally(monitorNow),
    );
    // Streams after each projection run, as the stream function follows the seal function in AWS.
    const streamNow = async () => {
      await jobs.stream({}, LOCAL_JOB_CONTEXT);
    };
    const projectNow = serial(() => jobs.project({}, LOCAL_JOB_CONTEXT).finally(streamNow));
    const sealNow = async () => {
      await sealChain();
      if (opts.projectAfterSeal !== false) await projectNow();
    };
    const anchorNow = async () => {
      await jobs.anchor({}, LOCAL_JOB_CONTEXT);
    };
    const recoverNow = async () => {
      await jobs.recover({}, LOCAL_JOB_CONTEXT);
    };
    // Two timers, as the functions are separate in AWS: the alert chain never waits for the
    // TSAs, the projector or recovery (bench:alerts measures the chain's latency), and each
    // loop skips a tick while its previous run is still going.
    const every = (name: string, run: () => Promise<void>) => {
      let running: Promise<void> | undefined;
      const timer = setInterval(() => {
        if (running) return;
        running = run()
          .catch((err: unknown) => log(`scheduled ${name} failed: ${String(err)}`))
          .finally(() => {
            running = undefined;
          });
      }, opts.sealIntervalMs ?? 1000);
      stops.push(async () => {
        clearInterval(timer);
        await running;
      });
    };
    if ((opts.sealIntervalMs ?? 1000) > 0) {
      every('seal, detect and deliver', sealChain);
      every('project, anchor and recover', () => projectNow().then(anchorNow).then(recoverNow));
      // The pending sweep (docs/ingest.md §9): 202-answered entries of a log nobody writes to now.
      every('sequence pending', async () => {
        await jobs.sequence({}, LOCAL_JOB_CONTEXT);
      });
    }

    const info: LocalStackInfo = {
      apiUrl: server.url,
      ...(opts.consoleDir ? { consoleUrl: `${server.url}/console/` } : {}),
      apiKey: demo.apiKey,
      adminKey: admin.apiKey,
      logId,
      awsEndpoint,
      archiveBucket: config.archiveBucket,
      tableName: config.tableName,
      tsaRoots: tsaRootsPath,
      tsaUrls: tsas.map((t) => t.url),
      signingKeyId: provisioned.signingKeyId,
      alertReceiverUrl: alerts.url,
      witnessUrls: witnesses.map((w) => w.url),
      witnessVkeys: witnesses.map((w) => w.vkey),
      rekorUrl: rekor.url,
      rekorVkey: rekor.vkey,
      rekorAnchorKeyId,
      hecReceiverUrl: hec.url,
    };
    writeFileSync(join(opts.stateDir, 'local-stack.json'), `${JSON.stringify(info, null, 2)}\n`);
    return {
      info,
      services,
      sealNow,
      anchorNow,
      recoverNow,
      deliverNow,
      projectNow: async () => {
        await projectNow();
      },
      alerts,
      hec,
      streamNow,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
