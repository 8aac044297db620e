/**
 * `npm start`'s Rekor v2 stand-in end to end: events → seal → anchor job (TSAs, witnesses, then
 * Rekor with the emulator-KMS anchor key) → the stand-in's checkpoint covers the entries; an
 * exported bundle carries the Rekor entry, which `anchorlog verify` judges against the pinned
 * Rekor log key and anchor key, and reports as unknown-rekor without them.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmsNoteSigner } from '../../src/adapters/aws/kms-signer.ts';
import { AuditClient } from '../../src/client/audit-client.ts';
import { parseVerifierKey, verifyLogCheckpoint } from '../../src/core/note/index.ts';
import { spkiToPem } from '../../src/core/note/pem.ts';
import { demoEvents } from '../../src/local/demo-events.ts';
import type { LocalStack } from '../../src/local/stack.ts';
import { cli, startTestStack } from './helpers.ts';

let stack: LocalStack;
let client: AuditClient;

beforeAll(async () => {
  stack = await startTestStack();
  client = new AuditClient({ apiUrl: stack.info.apiUrl, apiKey: stack.info.apiKey, logId: stack.info.logId });
});
afterAll(async () => {
  await client?.close();
  await stack?.stop();
});

describe('local stack: the anchor job submits every checkpoint to the Rekor v2 stand-in', () => {
  it('the entry is archived, exported and verified offline against the pinned Rekor keys', async () => {
    await Promise.all(demoEvents({ count: 30, startMs: Date.now() - 60_000 }).map((e) => client.append(e)));
    await stack.sealNow();
    await stack.anchorNow();
    const cp = await (await fetch(`${stack.info.rekorUrl}/api/v2/checkpoint`)).text();
    const rekorKey = parseVerifierKey(stack.info.rekorVkey);
    expect(verifyLogCheckpoint(cp, [rekorKey]).size).toBeGreaterThanOrEqual(1);

    const dir = mkdtempSync(join(tmpdir(), 'anchorlog-rekor-e2e-'));
    const api = ['--api', stack.info.apiUrl, '--key', stack.info.apiKey];
    const trustPath = join(dir, 'TRUST.json');
    const t = await cli('trust', '--log', stack.info.logId, '-o', trustPath, ...api);
    expect(t.code, t.err).toBe(0);
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
      ...api,
    );
    expect(exp.code, exp.err).toBe(0);

    const rekorOf = async (trust: string) => {
      const v = await cli('verify', file, '--trust', trust, '--allow-incomplete', '--json');
      expect(v.code, v.out + v.err).toBe(0);
      return (
        JSON.parse(v.out) as { attestations: { kind: string; status: string; by: string }[] }
      ).attestations.filter((a) => a.kind === 'rekor');
    };
    expect((await rekorOf(trustPath)).map((a) => a.status)).toEqual(['unknown-rekor']);

    const anchor = await KmsNoteSigner.create({
      client: stack.services.clients.kms,
      kmsKeyId: stack.info.rekorAnchorKeyId,
      keyName: 'anchor',
    });
    const pinned = JSON.parse(await readFile(trustPath, 'utf8'));
    pinned.rekor = { logKeys: [stack.info.rekorVkey], anchorKeys: [spkiToPem(anchor.publicKeySpki)] };
    const rekorTrust = join(dir, 'TRUST-rekor.json');
    writeFileSync(rekorTrust, JSON.stringify(pinned));
    const judged = await rekorOf(rekorTrust);
    expect(judged.map((a) => a.status)).toEqual(['verified']);
    expect(judged[0]?.by).toMatch(/^rekor\.anchorlog\.local#\d+$/);
  });
});
