/**
 * The auditor's tools end to end over real HTTP against the local stack:
 * events → seal → anchor (local OpenSSL TSAs) → `anchorlog checkpoint`,
 * `prove`, `export` and an offline `verify` pinned to the served key and the
 * TSA roots — exactly what a user runs after `npm start`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditClient } from '../../src/client/audit-client.ts';
import { demoEvents } from '../../src/local/demo-events.ts';
import type { LocalStack } from '../../src/local/stack.ts';
import { cli, startTestStack } from './helpers.ts';

let stack: LocalStack;
let vkey: string;
const dir = mkdtempSync(join(tmpdir(), 'anchorlog-cli-e2e-'));

beforeAll(async () => {
  stack = await startTestStack();
  const client = new AuditClient({
    apiUrl: stack.info.apiUrl,
    apiKey: stack.info.apiKey,
    logId: stack.info.logId,
  });
  await Promise.all(demoEvents({ count: 250, startMs: Date.now() - 60_000 }).map((e) => client.append(e)));
  await client.close();
  await stack.sealNow();
  await stack.anchorNow();
  const keys = (await (await fetch(`${stack.info.apiUrl}/v1/keys?log=${stack.info.logId}`)).json()) as {
    keys: Array<{ vkey?: string; vkeys?: Record<string, string> }>;
  };
  // `vkey` with ?log= (current), or the per-log map (older servers).
  vkey = keys.keys[0]?.vkey ?? keys.keys[0]?.vkeys?.[stack.info.logId] ?? '';
});
afterAll(async () => {
  await stack?.stop();
});

describe('anchorlog CLI against the local stack', () => {
  const api = () => ['--api', stack.info.apiUrl, '--key', stack.info.apiKey];

  it('checkpoint: fetches and verifies the latest checkpoint against the pinned key', async () => {
    const r = await cli('checkpoint', '--log', stack.info.logId, '--vkey', vkey, ...api());
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/size:\s+250/);
  });

  it('prove: verifies an inclusion proof and the record from its entry bundle', async () => {
    const r = await cli('prove', '--log', stack.info.logId, '--index', '123', '--vkey', vkey, ...api());
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('"index":123');
  });

  it('export + verify: the bundle verifies offline with pinned trust, and fails once tampered', async () => {
    const file = join(dir, 'bundle.tar');
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const exp = await cli(
      'export',
      '--log',
      stack.info.logId,
      '--from',
      from,
      '--to',
      to,
      '-o',
      file,
      ...api(),
    );
    expect(exp.code, exp.err).toBe(0);
    // TRUST.json built from the deployment; it pins the same key and roots as the stack's own files.
    const trust = join(dir, 'trust.json');
    const built = await cli('trust', '--log', stack.info.logId, '-o', trust, ...api());
    expect(built.code, built.err).toBe(0);
    const pinned = JSON.parse(readFileSync(trust, 'utf8')) as { logKeys: string[]; tsaRoots: string[] };
    expect(pinned.logKeys).toEqual([vkey]);
    expect(pinned.tsaRoots.join('').replace(/\s/g, '')).toBe(
      readFileSync(stack.info.tsaRoots, 'utf8').replace(/\s/g, ''),
    );
    // The range runs to now + 1 h: records after the checkpoint are not covered, so exit 4.
    const open = await cli('verify', file, '--trust', trust);
    expect(open.code, open.err).toBe(4);
    expect(open.out).toContain('RANGE_NOT_CLOSED');
    const ok = await cli('verify', file, '--trust', trust, '--allow-incomplete');
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toContain('Bundle: OK');
    expect(ok.out).toMatch(/250 record\(s\)/);

    const bytes = readFileSync(file);
    const at = bytes.indexOf(Buffer.from('"outcome":"success"'));
    expect(at).toBeGreaterThan(0);
    bytes.set(Buffer.from('"outcome":"failure"'), at);
    const tampered = join(dir, 'tampered.tar');
    writeFileSync(tampered, bytes);
    const bad = await cli('verify', tampered, '--trust', trust, '--allow-incomplete');
    expect(bad.code).toBe(1);
  });

  it('verify without --trust warns loudly that it trusted the bundle’s own keys, and exits 3', async () => {
    const r = await cli('verify', join(dir, 'bundle.tar'));
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/WARNING/);
  });

  it('the sample request: export --class access, then verify prints "complete" (docs/classes.md)', async () => {
    // The range ends at the last sealed record's receivedAt (exclusive), so that record closes it.
    const last = await cli(
      'prove',
      '--log',
      stack.info.logId,
      '--index',
      '249',
      '--vkey',
      vkey,
      '--json',
      ...api(),
    );
    expect(last.code, last.err).toBe(0);
    const to = (JSON.parse(last.out) as { record: { receivedAt: string } }).record.receivedAt;
    const from = new Date(Date.parse(to) - 3_600_000).toISOString();
    const file = join(dir, 'access.json');
    const exp = await cli(
      'export',
      '--log',
      stack.info.logId,
      '--class',
      'access',
      '--from',
      from,
      '--to',
      to,
      '-o',
      file,
      ...api(),
    );
    expect(exp.code, exp.err).toBe(0);
    const trust = join(dir, 'trust.json');
    const r = await cli('verify', file, '--trust', trust);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`complete for class access.* over [${from}, ${to})`);
  });

  it('monitor: every class root the sealer signed is what the records give', async () => {
    const r = await cli('monitor', '--log', stack.info.logId, '--vkey', vkey, ...api());
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('classes: access, admin, agent-tools, config, data-export');
  });
});

describe('entry bundles over 1 MiB through the local stack (API → 307 → the emulator S3)', () => {
  it('prove follows the redirect to a presigned URL of the archived bundle and verifies the record', async () => {
    // 40 records of ~64 KB: records 256..289 fill most of entry bundle 1 (~2.2 MB).
    const client = new AuditClient({
      apiUrl: stack.info.apiUrl,
      apiKey: stack.info.apiKey,
      logId: stack.info.logId,
    });
    const big = demoEvents({ count: 40, startMs: Date.now() - 30_000 }).map((e, i) => ({
      ...e,
      metadata: { blob: `${i}`.padEnd(64_000, 'x') },
    }));
    await Promise.all(big.map((e) => client.append(e)));
    await client.close();
    await stack.sealNow();
    const res = await fetch(`${stack.info.apiUrl}/v1/logs/${stack.info.logId}/tile/entries/001.p/34`, {
      headers: { authorization: `Bearer ${stack.info.apiKey}` },
      redirect: 'manual',
    });
    expect(res.status).toBe(307);
    const location = new URL(res.headers.get('location') as string);
    expect(location.origin).toBe(new URL(stack.info.awsEndpoint).origin);
    const r = await cli(
      'prove',
      '--log',
      stack.info.logId,
      '--index',
      '280',
      '--vkey',
      vkey,
      ...['--api', stack.info.apiUrl, '--key', stack.info.apiKey],
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('"index":280');
  });
});
