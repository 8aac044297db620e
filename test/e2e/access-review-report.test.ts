/**
 * Access review evidence end to end on the local stack, as an auditor would
 * check it (docs/access.md "Access reviews"): `anchorlog access-reviews
 * start|decide|close` through the real HTTP API — a revoke takes the key out
 * at once (401) — then seal and anchor, `anchorlog export --log system` of
 * the period, and `anchorlog access-reviews report --bundle` (offline,
 * verified against TRUST.json) is byte-identical to the report from the API,
 * in JSON and in CSV.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiKey } from '../../src/core/principal.ts';
import type { LocalStack } from '../../src/local/stack.ts';
import { cli, startTestStack } from './helpers.ts';

let stack: LocalStack;
const dir = mkdtempSync(join(tmpdir(), 'anchorlog-access-e2e-'));

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe('access review evidence, end to end', () => {
  it('a revoke takes the key out at once; the report from a verified bundle equals the API’s, byte for byte', async () => {
    const admin = () => ['--api', stack.info.apiUrl, '--key', stack.info.adminKey];
    const adminId = parseApiKey(stack.info.adminKey).principalId;
    const from = new Date(Date.now() - 1000).toISOString();
    const actor = await stack.services.principals.authenticate(stack.info.adminKey);
    const leaver = await stack.services.principals.create(actor, {
      id: 'leaver-e2e',
      name: 'Leaver',
      kind: 'human',
      owner: 'it@example.com',
      purpose: 'left the company',
      scopes: { [stack.info.logId]: ['events:read'] },
    });
    const probe = (key: string) =>
      fetch(`${stack.info.apiUrl}/v1/logs/${stack.info.logId}/checkpoint`, {
        headers: { authorization: `Bearer ${key}` },
      }).then((r) => r.status);
    expect(await probe(leaver.apiKey)).not.toBe(401);

    const started = await cli('access-reviews', 'start', '--name', 'e2e-2026-Q1', '--json', ...admin());
    expect(started.code, started.err).toBe(0);
    const id = JSON.parse(started.out).review.id as string;
    for (const argv of [
      [
        'decide',
        id,
        '--principal',
        'leaver-e2e',
        '--decision',
        'revoke',
        '--reason',
        'left 2026-02-14, HR-311',
      ],
      [
        'decide',
        id,
        '--principal',
        adminId,
        '--decision',
        'keep',
        '--reason',
        'bootstrap admin, break-glass',
      ],
    ]) {
      const r = await cli('access-reviews', ...argv, ...admin());
      expect(r.code, r.err).toBe(0);
    }
    expect(await probe(leaver.apiKey)).toBe(401);
    expect((await cli('access-reviews', 'close', id, ...admin())).code).toBe(0);

    // The period ends; a later record and a seal close it, the anchors date it.
    await pause(5);
    const to = new Date().toISOString();
    await pause(5);
    // A later system-log record, so the sealed checkpoint proves the period complete.
    await stack.services.principals.create(actor, {
      id: 'after-e2e',
      name: 'After',
      kind: 'human',
      owner: 'it@example.com',
      purpose: 'closes the period',
      scopes: {},
    });
    await stack.sealNow();
    await stack.anchorNow();

    const bundle = join(dir, 'system.tar');
    const exp = await cli('export', '--log', 'system', '--from', from, '--to', to, '-o', bundle, ...admin());
    expect(exp.code, exp.err).toBe(0);
    const trust = join(dir, 'trust.json');
    expect((await cli('trust', '--log', 'system', '-o', trust, ...admin())).code).toBe(0);
    const offline = await cli('access-reviews', 'report', id, '--bundle', bundle, '--trust', trust);
    expect(offline.code, offline.err).toBe(0);
    const online = await cli('access-reviews', 'report', id, ...admin());
    expect(online.code, online.err).toBe(0);
    expect(online.out).toBe(offline.out);
    const report = JSON.parse(offline.out);
    expect(report).toMatchObject({ reviewId: id, name: 'e2e-2026-Q1', closedBy: adminId, problems: [] });
    const row = (pid: string) =>
      (report.items as { principalId: string }[]).find((r) => r.principalId === pid);
    expect(row('leaver-e2e')).toMatchObject({ decision: 'revoke', reviewer: adminId, undecided: false });
    expect(row(adminId)).toMatchObject({ decision: 'keep', flags: expect.arrayContaining(['admin']) });

    const csvBundle = join(dir, 'offline.csv');
    const csvApi = join(dir, 'online.csv');
    const c1 = await cli(
      'access-reviews',
      'report',
      id,
      '--bundle',
      bundle,
      '--trust',
      trust,
      '--format',
      'csv',
      '-o',
      csvBundle,
    );
    const c2 = await cli('access-reviews', 'report', id, '--format', 'csv', '-o', csvApi, ...admin());
    expect([c1.code, c2.code]).toEqual([0, 0]);
    expect(readFileSync(csvBundle, 'utf8')).toBe(readFileSync(csvApi, 'utf8'));
    expect(readFileSync(csvBundle, 'utf8')).toContain('leaver-e2e,');
  });
});
