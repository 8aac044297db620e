/**
 * The export side (docs/bundle.md): evidence bundles over the log store, the
 * archive (tiles, time-stamps), the anchor store and the log key (KMS
 * GetPublicKey, as the read side), written to the exports bucket.
 */
import { DynamoAnchorStore } from '../adapters/aws/dynamo-anchor-store.ts';
import { dynamoAnchoredSizes } from '../adapters/aws/dynamo-anchored-sizes.ts';
import { KmsNoteSigner } from '../adapters/aws/kms-signer.ts';
import { S3ArchiveStore } from '../adapters/aws/s3-archive-store.ts';
import { S3ExportStore } from '../adapters/aws/s3-export-store.ts';
import { ExportService } from '../app/export.ts';
import { ConfigError } from '../config.ts';
import type { Route } from '../http/router.ts';
import { exportRoutes } from '../http/routes/exports.ts';
import { createProofService } from './read.ts';
import type { Services } from './services.ts';

/** The export use case; its limits come from `config.exportLimits`, its bucket from `config.exportsBucket`. */
export function createExporting(
  services: Pick<Services, 'config' | 'clients' | 'clock' | 'logStore'>,
): ExportService {
  const { config, clients, clock, logStore } = services;
  let keys: Promise<readonly Uint8Array[]> | undefined;
  const publicKeys = () => {
    if (keys === undefined) {
      if (!config.signingKeyId)
        return Promise.reject(new Error('ANCHORLOG_SIGNING_KEY_ID is not configured'));
      const p = KmsNoteSigner.create({
        client: clients.kms,
        kmsKeyId: config.signingKeyId,
        keyName: config.originPrefix,
      }).then((k) => [k.publicKeySpki] as const);
      // A failed fetch is not cached: the next export asks KMS again.
      p.catch(() => {
        if (keys === p) keys = undefined;
      });
      keys = p;
    }
    return keys;
  };
  const { maxRecords, urlTtlSeconds } = config.exportLimits ?? {};
  return new ExportService({
    logs: logStore,
    proofs: createProofService(services),
    publicKeys,
    archive: new S3ArchiveStore({ client: clients.s3, bucket: config.archiveBucket }),
    anchors: new DynamoAnchorStore({ client: clients.ddb, tableName: config.tableName }),
    anchoredSizes: dynamoAnchoredSizes({ client: clients.ddb, tableName: config.tableName }),
    ...(config.witnesses?.length ? { witnesses: config.witnesses } : {}),
    ...(config.rekor ? { rekor: { name: config.rekor.name } } : {}),
    clock,
    ...(config.exportsBucket
      ? { store: new S3ExportStore({ client: clients.s3, bucket: config.exportsBucket }) }
      : {}),
    ...(maxRecords !== undefined ? { maxRecords } : {}),
    ...(urlTtlSeconds !== undefined ? { urlTtlSeconds } : {}),
  });
}

/**
 * The export function's routes (scope export). It needs the exports bucket
 * (ANCHORLOG_EXPORTS_BUCKET): without it the function does not start.
 */
export function exportApi(
  services: Pick<Services, 'config' | 'clients' | 'clock' | 'logStore' | 'principals'>,
): Route[] {
  if (!services.config.exportsBucket)
    throw new ConfigError(
      'missing required environment variable ANCHORLOG_EXPORTS_BUCKET',
      'MISSING_SETTING',
    );
  return exportRoutes({ exports: createExporting(services), principals: services.principals });
}
