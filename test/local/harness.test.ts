import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { awsClientConfig, resetMoto } from '../support/aws.ts';
import { harnessTsas } from '../support/tsa.ts';

describe('emulator harness', () => {
  it('serves S3 and resets between files', async () => {
    const s3 = new S3Client(awsClientConfig());
    expect((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).toEqual([]);
    await s3.send(new CreateBucketCommand({ Bucket: 'harness-check' }));
    expect((await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toEqual([
      'harness-check',
    ]);
    await resetMoto();
    expect((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).toEqual([]);
  });
});

describe('local OpenSSL TSAs', () => {
  const tsa = harnessTsas();
  it.each(['ecdsa', 'rsa'] as const)('%s TSA answers with a token openssl verifies', async (flavour) => {
    const t = tsa[flavour];
    const dir = mkdtempSync(join(tmpdir(), 'tsa-test-'));
    writeFileSync(join(dir, 'data'), 'checkpoint text\n');
    execFileSync('openssl', [
      'ts',
      '-query',
      '-data',
      join(dir, 'data'),
      '-sha256',
      '-cert',
      '-out',
      join(dir, 'q'),
    ]);
    const query = execFileSync('cat', [join(dir, 'q')]);
    const res = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query' },
      body: query,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/timestamp-reply');
    writeFileSync(join(dir, 'r'), Buffer.from(await res.arrayBuffer()));
    const out = execFileSync(
      'openssl',
      ['ts', '-verify', '-in', join(dir, 'r'), '-data', join(dir, 'data'), '-CAfile', t.rootCertPath],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    expect(out).toContain('Verification: OK');
    const text = execFileSync('openssl', ['ts', '-reply', '-in', join(dir, 'r'), '-text'], {
      encoding: 'utf8',
    });
    expect(text).toContain('Status: Granted.');
  });
  it('answers a garbage query with an RFC 3161 rejection, as a real TSA does', async () => {
    const res = await fetch(tsa.ecdsa.url, { method: 'POST', body: 'not der' });
    expect(res.status).toBe(200);
    const dir = mkdtempSync(join(tmpdir(), 'tsa-test-'));
    writeFileSync(join(dir, 'r'), Buffer.from(await res.arrayBuffer()));
    const text = execFileSync('openssl', ['ts', '-reply', '-in', join(dir, 'r'), '-text'], {
      encoding: 'utf8',
    });
    expect(text).toContain('Status: Rejected.');
  });
});
