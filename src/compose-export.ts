/**
 * Composition of the export side (DESIGN §4 exports, §5 bundles): the export
 * use case over the log store, the archive (tiles, time-stamps), the anchor
 * store, the log key (KMS GetPublicKey, as the read side) and the exports
 * bucket, over the clients built once by src/compose.ts.
 */
import { DynamoAnchorStore } from './adapters/aws/dynamo-anchor-store.ts';
import { dynamoAnchoredSizes } from './adapters/aws/dynamo-anchored-sizes.ts';
import { KmsNoteSigner } from './adapters/aws/kms-signer.ts';
import { S3ArchiveStore } from './adapters/aws/s3-archive-store.ts';
import { S3ExportStore } from './adapters/aws/s3-export-store.ts';
import { ExportService } from './app/export.ts';
import type { ProofService } from './app/proofs.ts';
import { createProofService, type Services } from './compose.ts';

export interface ExportingOptions {
  /** Largest index interval the synchronous API exports (default 200,000 records). */
  maxRecords?: number;
  /** Presigned URL lifetime (default 3600 s). */
  urlTtlSeconds?: number;
  /** A ProofService to reuse (default: createProofService). */
  proofs?: ProofService;
}

export function createExporting(
  services: Pick<Services, 'config' | 'clients' | 'clock' | 'logStore'>,
  opts: ExportingOptions = {},
): ExportService {
  const { config, clients, clock, logStore } = services;
  const proofs = opts.proofs ?? createProofService(services);
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
      p.catch(() => {
        if (keys === p) keys = undefined;
      });
      keys = p;
    }
    return keys;
  };
  return new ExportService({
    logs: logStore,
    proofs,
    publicKeys,
    archive: new S3ArchiveStore({ client: clients.s3, bucket: config.archiveBucket }),
    anchors: new DynamoAnchorStore({ client: clients.ddb, tableName: config.tableName }),
    anchoredSizes: dynamoAnchoredSizes({ client: clients.ddb, tableName: config.tableName }),
    clock,
    ...(config.exportsBucket
      ? { store: new S3ExportStore({ client: clients.s3, bucket: config.exportsBucket }) }
      : {}),
    ...(opts.maxRecords !== undefined ? { maxRecords: opts.maxRecords } : {}),
    ...(opts.urlTtlSeconds !== undefined ? { urlTtlSeconds: opts.urlTtlSeconds } : {}),
  });
}
