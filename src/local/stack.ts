/**
 * The local stack: everything `npm start` runs, as a function so end-to-end
 * tests can start the very same thing. It starts (or reuses) the AWS
 * emulator and two OpenSSL TSAs, creates the table, the Object Lock archive
 * bucket and the KMS signing key, wires the same services the Lambdas use,
 * bootstraps an admin and a demo principal, serves the API over HTTP, and
 * runs the sealer on a timer (the cloud's EventBridge schedule).
 */

import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoSealStateStore } from '../adapters/aws/dynamo-seal-state-store.ts';
import { KmsNoteSigner } from '../adapters/aws/kms-signer.ts';
import { createArchiveBucket, S3ArchiveStore } from '../adapters/aws/s3-archive-store.ts';
import { createExportsBucket } from '../adapters/aws/s3-export-store.ts';
import { putSecret } from '../adapters/aws/secrets-manager-source.ts';
import { ensureTable } from '../adapters/aws/table.ts';
import { EmfMetricsSink } from '../adapters/metrics/emf-metrics.ts';
import { SealService } from '../app/seal.ts';
import { createProofService, createSecretSource, createServices, type Services } from '../compose.ts';
import { createAnchoring } from '../compose-anchor.ts';
import { createExporting } from '../compose-export.ts';
import { createProjector, createQueryService } from '../compose-query.ts';
import { type AppConfig, DEFAULT_LIMITS, loadCursorKey } from '../config.ts';
import { SYSTEM_LOG_ID } from '../core/principal.ts';
import { createRouter, type Route } from '../http/router.ts';
import { adminRoutes } from '../http/routes/admin.ts';
import { anchorRoutes } from '../http/routes/anchors.ts';
import { eventWriteRoutes } from '../http/routes/events.ts';
import { exportRoutes } from '../http/routes/exports.ts';
import { queryRoutes } from '../http/routes/query.ts';
import { readRoutes } from '../http/routes/read.ts';
import { json } from '../http/types.ts';
import { startHttpServer } from './http-server.ts';
import { type MotoServer, startMoto } from './moto.ts';
import { ensureTsaPki, rootsPem } from './tsa/pki.ts';
import { type LocalTsa, startLocalTsa } from './tsa/server.ts';

export interface LocalStackOptions {
  /** Directory for generated state (TSA PKI, local-stack.json). */
  stateDir: string;
  host?: string;
  /** API port; 0 picks a free one. Default 8787. */
  port?: number;
  /** Use this emulator instead of starting one (tests share the harness's). */
  awsEndpoint?: string;
  logId?: string;
  /** Seal every N ms; 0 disables the timer (tests call sealNow). */
  sealIntervalMs?: number;
  retentionDays?: number;
  log?: (line: string) => void;
}

export interface LocalStackInfo {
  apiUrl: string;
  apiKey: string;
  adminKey: string;
  logId: string;
  awsEndpoint: string;
  archiveBucket: string;
  tableName: string;
  tsaRoots: string;
  tsaUrls: string[];
  signingKeyId: string;
}

export interface LocalStack {
  info: LocalStackInfo;
  services: Services;
  seal: SealService;
  /** Seals every log once (what the timer does). */
  sealNow(): Promise<void>;
  /** Anchors every log's newest checkpoint with both local TSAs once (the timer does this after sealing). */
  anchorNow(): Promise<void>;
  stop(): Promise<void>;
}

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

    const config: AppConfig = {
      aws: { region: 'us-east-1', endpoint: awsEndpoint },
      tableName: 'anchorlog',
      archiveBucket: 'anchorlog-archive',
      exportsBucket: 'anchorlog-exports',
      originPrefix: 'anchorlog.local',
      limits: DEFAULT_LIMITS,
      tsas: tsas.map((t) => ({ name: `local-${t.pki.flavour}`, url: t.url, rootsPem: rootsPem([t.pki]) })),
      anchorQuorum: 2,
      retiredSigningKeys: [],
    };
    const services = createServices(config, {
      onWarning: (m, cause) => log(`warning: ${m}: ${String(cause)}`),
    });
    const { clients } = services;

    log('creating the table, the Object Lock archive bucket and the KMS signing key…');
    await ensureTable(clients.ddb, config.tableName);
    await createArchiveBucket(clients.s3, config.archiveBucket, opts.retentionDays ?? 1);
    await createExportsBucket(clients.s3, 'anchorlog-exports');
    const key = await clients.kms.send(
      new CreateKeyCommand({
        KeySpec: 'ECC_NIST_P256',
        KeyUsage: 'SIGN_VERIFY',
        Description: 'anchorlog local checkpoint signing key',
      }),
    );
    const signingKeyId = key.KeyMetadata?.KeyId;
    if (!signingKeyId) throw new Error('KMS CreateKey returned no key id');
    config.signingKeyId = signingKeyId;

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
      owner: 'platform-team@example.com',
      purpose: 'sends the demo stream of agent, tool and configuration events',
      scopes: { [logId]: ['events:write', 'events:read', 'proofs:read', 'export'] },
    });

    const signer = await KmsNoteSigner.create({
      client: clients.kms,
      kmsKeyId: signingKeyId,
      keyName: config.originPrefix,
    });
    const seal = new SealService({
      logs: services.logStore,
      state: new DynamoSealStateStore({ client: clients.ddb, tableName: config.tableName }),
      archive: new S3ArchiveStore({ client: clients.s3, bucket: config.archiveBucket }),
      signer,
      clock: services.clock,
      originPrefix: config.originPrefix,
    });

    // Locally, only metrics that would page someone are printed (a TSA failure or a missed quorum).
    const emf = new EmfMetricsSink({ write: (line) => log(`metric ${line.trimEnd()}`) });
    const anchoring = createAnchoring(services, {
      logPublicKeys: [signer.publicKeySpki],
      metrics: {
        emit: (e) => {
          if (e.metrics.some((m) => /Failure|Missed/.test(m.name) && m.value > 0)) emf.emit(e);
        },
      },
    });

    // The cursor key: random per start, kept in the emulator's Secrets Manager and
    // read back through the same path as the query Lambda's cold start.
    const cursorKeyArn = await putSecret(
      new SecretsManagerClient({
        region: config.aws.region,
        endpoint: awsEndpoint,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
      'anchorlog/query-cursor-key',
      randomBytes(32).toString('base64url'),
    );
    config.secrets = { queryCursorKey: cursorKeyArn };
    const querying = {
      projector: createProjector(services),
      query: createQueryService(services, {
        cursorKey: await loadCursorKey(config, createSecretSource(config)),
      }),
    };
    const routes: Route[] = [
      {
        method: 'GET',
        pattern: '/v1/health',
        auth: 'public',
        handle: async () => json(200, { ok: true }),
      },
      ...eventWriteRoutes(services),
      ...queryRoutes({ query: querying.query, principals: services.principals }),
      ...adminRoutes(services),
      ...readRoutes({ proofs: createProofService(services), principals: services.principals }),
      ...anchorRoutes({ anchors: anchoring.anchorStore, principals: services.principals }),
      ...exportRoutes({ exports: createExporting(services), principals: services.principals }),
    ];
    const dispatch = createRouter(routes, {
      authenticate: services.authenticate,
      logger: { error: (m, f) => log(`error: ${m} ${JSON.stringify(f)}`) },
    });
    const server = await startHttpServer(dispatch, {
      host: opts.host ?? '127.0.0.1',
      port: opts.port ?? 8787,
      maxBodyBytes: config.limits.maxBodyBytes,
    });
    stops.push(() => server.close());

    // Like the scheduled Lambdas: every log, including ones created later through the admin API.
    const anchorNow = async () => {
      for (const id of await services.logStore.listLogs()) await anchoring.anchor.anchorLog(id);
    };
    let sealing: Promise<void> | undefined;
    // Seal, then project new records into the query indexes (two scheduled Lambdas in the cloud).
    const sealNow = async () => {
      const logs = await services.logStore.listLogs();
      for (const id of logs) {
        for (;;) {
          const out = await seal.sealLog(id);
          if (!out.more) break;
        }
      }
      await querying.projector.projectMany(logs, services.clock.now() + 30_000);
    };
    if ((opts.sealIntervalMs ?? 1000) > 0) {
      const timer = setInterval(() => {
        if (sealing) return;
        sealing = sealNow()
          .then(anchorNow)
          .catch((err: unknown) => log(`seal failed: ${String(err)}`))
          .finally(() => {
            sealing = undefined;
          });
      }, opts.sealIntervalMs ?? 1000);
      stops.push(async () => {
        clearInterval(timer);
        await sealing;
      });
    }

    const info: LocalStackInfo = {
      apiUrl: server.url,
      apiKey: demo.apiKey,
      adminKey: admin.apiKey,
      logId,
      awsEndpoint,
      archiveBucket: config.archiveBucket,
      tableName: config.tableName,
      tsaRoots: tsaRootsPath,
      tsaUrls: tsas.map((t) => t.url),
      signingKeyId,
    };
    writeFileSync(join(opts.stateDir, 'local-stack.json'), `${JSON.stringify(info, null, 2)}\n`);
    return { info, services, seal, sealNow, anchorNow, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
