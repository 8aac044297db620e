import {
  DeleteObjectCommand,
  GetObjectLockConfigurationCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { createArchiveBucket, S3ArchiveStore } from '../../src/adapters/aws/s3-archive-store.ts';
import { ArchiveError, archiveKey, checkpointKey } from '../../src/ports/archive-store.ts';
import { awsClientConfig } from '../support/aws.ts';

const bucket = 'archive-test';
let s3: S3Client;
let store: S3ArchiveStore;
const bytes = (s: string) => new TextEncoder().encode(s);

beforeAll(async () => {
  s3 = new S3Client(awsClientConfig());
  await createArchiveBucket(s3, bucket, 400);
  store = new S3ArchiveStore({ client: s3, bucket });
});

async function versions(key: string) {
  const out = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
  return (out.Versions ?? []).filter((v) => v.Key === key);
}

// What every ArchiveStore does is test/contracts/archive-store.contract.ts
// (run against this adapter by test/contracts/aws.test.ts); here, what is
// S3's own: the bucket's Object Lock configuration, the conditional-write
// support this adapter relies on, and that locked versions cannot be deleted.
describe('createArchiveBucket', () => {
  it('enables Object Lock with a COMPLIANCE default retention, idempotently', async () => {
    await createArchiveBucket(s3, bucket, 400);
    const cfg = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
    expect(cfg.ObjectLockConfiguration?.ObjectLockEnabled).toBe('Enabled');
    expect(cfg.ObjectLockConfiguration?.Rule?.DefaultRetention).toMatchObject({
      Mode: 'COMPLIANCE',
      Days: 400,
    });
  });
});

describe('S3ArchiveStore.putImmutable', () => {
  it('moto 5.2 honours If-None-Match: * on PutObject (no fallback needed)', async () => {
    const key = 'probe/if-none-match';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes('a'), IfNoneMatch: '*' }));
    await expect(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes('b'), IfNoneMatch: '*' })),
    ).rejects.toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
    expect(await versions(key)).toHaveLength(1);
  });

  it('deleting a tile version is refused', async () => {
    const key = archiveKey('log-a', 'tile/0/002');
    await store.putImmutable(key, bytes('locked'));
    const head = await store.head(key);
    await expect(
      s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: head?.versionId })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    expect(await store.get(key)).toEqual(bytes('locked'));
  });

  it('an unreachable bucket is a typed error, not a silent success', async () => {
    const other = new S3ArchiveStore({ client: s3, bucket: 'no-such-bucket' });
    await expect(other.putImmutable('k', bytes('v'))).rejects.toBeInstanceOf(ArchiveError);
  });
});

describe('S3ArchiveStore.putCheckpoint', () => {
  it('keeps every checkpoint version, each locked; deleting a version is refused', async () => {
    const a = await store.putCheckpoint('log-c', 'origin/log-c\n1\nAAAA\n', { ifNoneMatch: '*' });
    if (!a.written) throw new Error('not written');
    const b = await store.putCheckpoint('log-c', 'origin/log-c\n2\nBBBB\n', { ifMatch: a.etag });
    if (!b.written) throw new Error('not written');
    const key = checkpointKey('log-c');
    expect(await versions(key)).toHaveLength(2);
    expect(new TextDecoder().decode(await store.get(key))).toBe('origin/log-c\n2\nBBBB\n');
    expect((await store.head(key))?.lockMode).toBe('COMPLIANCE');
    await expect(
      s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: a.versionId })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    expect(await versions(key)).toHaveLength(2);
  });
});
