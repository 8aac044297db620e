/**
 * The read side (docs/architecture.md §Routes → functions): checkpoint,
 * tiles, proofs and anchors for auditors, and the public GET /v1/keys. Reads
 * only; the log key is used through GetPublicKey, never Sign.
 */
import { DynamoAnchorStore } from '../adapters/aws/dynamo-anchor-store.ts';
import { DynamoSealStateStore } from '../adapters/aws/dynamo-seal-state-store.ts';
import { KmsNoteSigner } from '../adapters/aws/kms-signer.ts';
import { S3ArchiveStore } from '../adapters/aws/s3-archive-store.ts';
import { ClassAnswerService } from '../app/class-answer.ts';
import { ProofService } from '../app/proofs.ts';
import type { Route } from '../http/router.ts';
import { anchorRoutes } from '../http/routes/anchors.ts';
import { catalogRoutes } from '../http/routes/catalog.ts';
import { classRoutes } from '../http/routes/classes.ts';
import { logHealthRoutes } from '../http/routes/log-health.ts';
import { producerRoutes } from '../http/routes/producers.ts';
import { readRoutes } from '../http/routes/read.ts';
import type { Services } from './services.ts';

/**
 * Proofs over the archive bucket. The public key is fetched from KMS on the
 * first /v1/keys, so a missing ANCHORLOG_SIGNING_KEY_ID fails that request,
 * not the function's start.
 */
export function createProofService(services: Pick<Services, 'config' | 'clients'>): ProofService {
  const { config, clients } = services;
  return new ProofService({
    archive: new S3ArchiveStore({ client: clients.s3, bucket: config.archiveBucket }),
    originPrefix: config.originPrefix,
    ...(config.witnesses?.length ? { witnesses: config.witnesses } : {}),
    publicKeys: async () => {
      if (!config.signingKeyId) throw new Error('ANCHORLOG_SIGNING_KEY_ID is not configured');
      const k = await KmsNoteSigner.create({
        client: clients.kms,
        kmsKeyId: config.signingKeyId,
        keyName: config.originPrefix,
      });
      return [k.publicKeySpki];
    },
  });
}

/** The read function's routes (scope proofs:read, and the public keys). */
export function readApi(
  services: Pick<
    Services,
    'config' | 'clients' | 'principals' | 'catalog' | 'producers' | 'logStore' | 'clock'
  >,
): Route[] {
  const { config, clients, principals } = services;
  const anchors = new DynamoAnchorStore({ client: clients.ddb, tableName: config.tableName });
  return [
    ...catalogRoutes({ catalog: services.catalog }),
    ...producerRoutes({ producers: services.producers, principals }),
    ...readRoutes({ proofs: createProofService(services), principals }),
    ...anchorRoutes({ anchors, principals }),
    ...logHealthRoutes({
      logs: services.logStore,
      state: new DynamoSealStateStore({ client: clients.ddb, tableName: config.tableName }),
      clock: services.clock,
      lagThresholdSeconds: config.healthSealLagSeconds,
      principals,
    }),
    ...classRoutes({
      answers: new ClassAnswerService({
        archive: new S3ArchiveStore({ client: clients.s3, bucket: config.archiveBucket }),
        anchors,
      }),
      principals,
    }),
  ];
}
