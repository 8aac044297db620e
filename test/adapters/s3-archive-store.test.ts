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

  it('creates once; identical bytes again is success without a new version', async () => {
    const key = archiveKey('log-a', 'tile/0/000.p/3');
    expect(await store.putImmutable(key, bytes('tile-bytes'))).toEqual({ created: true });
    expect(await store.putImmutable(key, bytes('tile-bytes'))).toEqual({ created: false });
    expect(await versions(key)).toHaveLength(1);
    expect(await store.get(key)).toEqual(bytes('tile-bytes'));
  });

  it('different bytes at an existing key is a fatal IMMUTABLE_CONFLICT and writes nothing', async () => {
    const key = archiveKey('log-a', 'tile/entries/000.p/1');
    await store.putImmutable(key, bytes('one'));
    const err = await store.putImmutable(key, bytes('two')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveError);
    expect((err as ArchiveError).code).toBe('IMMUTABLE_CONFLICT');
    expect(await versions(key)).toHaveLength(1);
    expect(await store.get(key)).toEqual(bytes('one'));
  });

  it('tiles are locked in COMPLIANCE mode (HeadObject: moto lacks GetObjectRetention)', async () => {
    const key = archiveKey('log-a', 'tile/0/001');
    await store.putImmutable(key, bytes('x'.repeat(64)));
    const head = await store.head(key);
    expect(head?.lockMode).toBe('COMPLIANCE');
    expect(head?.retainUntil?.getTime()).toBeGreaterThan(Date.now() + 399 * 86_400_000);
    expect(head?.size).toBe(64);
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

  it('get and head of a missing key are undefined', async () => {
    expect(await store.get('logs/none/tile/0/000')).toBeUndefined();
    expect(await store.head('logs/none/tile/0/000')).toBeUndefined();
  });

  it('an unreachable bucket is a typed error, not a silent success', async () => {
    const other = new S3ArchiveStore({ client: s3, bucket: 'no-such-bucket' });
    await expect(other.putImmutable('k', bytes('v'))).rejects.toBeInstanceOf(ArchiveError);
  });
});

describe('S3ArchiveStore.putCheckpoint', () => {
  it('is a compare-and-swap: first write only onto nothing, later ones only onto the version named', async () => {
    const key = checkpointKey('log-b');
    expect(key).toBe('logs/log-b/checkpoint');
    expect(await store.getCheckpoint('log-b')).toBeUndefined();
    const a = await store.putCheckpoint('log-b', 'origin/log-b\n1\nAAAA\n', { ifNoneMatch: '*' });
    if (!a.written) throw new Error('first checkpoint not written');
    // A second "first" checkpoint is refused: one exists.
    expect(await store.putCheckpoint('log-b', 'origin/log-b\n1\nXXXX\n', { ifNoneMatch: '*' })).toEqual({
      written: false,
    });
    expect(await store.getCheckpoint('log-b')).toEqual({ text: 'origin/log-b\n1\nAAAA\n', etag: a.etag });

    const b = await store.putCheckpoint('log-b', 'origin/log-b\n2\nBBBB\n', { ifMatch: a.etag });
    if (!b.written) throw new Error('second checkpoint not written');
    expect(b.versionId).not.toBe(a.versionId);
    // A writer still holding A's ETag cannot replace B (it has not seen it).
    expect(await store.putCheckpoint('log-b', 'origin/log-b\n1\nAAAA\n', { ifMatch: a.etag })).toEqual({
      written: false,
    });
    expect(await store.getCheckpoint('log-b')).toEqual({ text: 'origin/log-b\n2\nBBBB\n', etag: b.etag });
    expect(await versions(key)).toHaveLength(2);
  });

  it('If-Match onto a log without a checkpoint writes nothing', async () => {
    const r = await store.putCheckpoint('log-none', 'origin/log-none\n1\nAAAA\n', { ifMatch: '"0123abcd"' });
    expect(r).toEqual({ written: false });
    expect(await store.getCheckpoint('log-none')).toBeUndefined();
    expect(await versions(checkpointKey('log-none'))).toHaveLength(0);
  });

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

describe('S3ArchiveStore: entry bundles too large to pass through the API Lambda', () => {
  it('getBounded: the bytes up to the bound, else only size and version (one ranged GET)', async () => {
    const small = archiveKey('log-b', 'tile/entries/000.p/2');
    const big = archiveKey('log-b', 'tile/entries/001');
    const bigBytes = crypto.getRandomValues(new Uint8Array(5000));
    await store.putImmutable(small, bytes('0123456789'));
    await store.putImmutable(big, bigBytes);
    const [bigVersion] = await versions(big);
    expect(await store.getBounded(small, 10)).toMatchObject({ size: 10, bytes: bytes('0123456789') });
    expect(await store.getBounded(small, 4096)).toMatchObject({ size: 10, bytes: bytes('0123456789') });
    const over = await store.getBounded(big, 4096);
    expect(over).toEqual({ size: 5000, versionId: bigVersion?.VersionId, bytes: undefined });
    expect(await store.getBounded(big, 5000)).toMatchObject({ size: 5000, bytes: bigBytes });
    expect(await store.getBounded(archiveKey('log-b', 'tile/entries/002'), 10)).toBeUndefined();
    const empty = archiveKey('log-b', 'probe/empty');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: empty, Body: new Uint8Array(0) }));
    expect(await store.getBounded(empty, 10)).toMatchObject({ size: 0, bytes: new Uint8Array(0) });
  });

  it('presignGet: a URL anyone can GET for a while, for exactly that version', async () => {
    const key = archiveKey('log-b', 'tile/entries/003');
    const data = crypto.getRandomValues(new Uint8Array(3000));
    await store.putImmutable(key, data);
    const [v] = await versions(key);
    const url = await store.presignGet(key, v?.VersionId, 60);
    expect(new URL(url).searchParams.get('versionId')).toBe(v?.VersionId);
    expect(new URL(url).searchParams.get('X-Amz-Expires')).toBe('60');
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(data);
  });
});
