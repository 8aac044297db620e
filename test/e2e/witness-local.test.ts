/**
 * `npm start`'s two local witnesses end to end: events → seal → anchor job
 * (TSAs, then witnesses) → GET /v1/logs/{log}/checkpoint carries both
 * cosignatures, still a valid signed note for a parser that knows only the log
 * key; a second seal is cosigned through a consistency proof computed from the
 * archived tiles in S3.
 */
import { mkdtempSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditClient } from '../../src/client/audit-client.ts';
import { parseVerifierKey, verifyNote } from '../../src/core/note/index.ts';
import { parseCosignerKey, verifyWitnessedCheckpoint, witnessPolicy } from '../../src/core/witness/index.ts';
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

async function served(): Promise<string> {
  const res = await fetch(`${stack.info.apiUrl}/v1/logs/${stack.info.logId}/checkpoint`, {
    headers: { authorization: `Bearer ${stack.info.apiKey}` },
  });
  expect(res.status).toBe(200);
  return res.text();
}

async function logKey() {
  const keys = (await (await fetch(`${stack.info.apiUrl}/v1/keys?log=${stack.info.logId}`)).json()) as {
    keys: Array<{ vkey: string }>;
  };
  return parseVerifierKey(keys.keys[0]?.vkey ?? '');
}

describe('local stack: two witnesses cosign every checkpoint', () => {
  it('serves the checkpoint with both cosignatures, after the first seal and after growth', async () => {
    const policy = witnessPolicy(stack.info.witnessVkeys.map(parseCosignerKey), 2);
    const key = await logKey();
    for (const count of [40, 300]) {
      await Promise.all(demoEvents({ count, startMs: Date.now() - 60_000 }).map((e) => client.append(e)));
      await stack.sealNow();
      await stack.anchorNow();
      const note = await served();
      const r = verifyWitnessedCheckpoint(note, [key], policy, { now: Math.floor(Date.now() / 1000) });
      expect(r.witnesses.map((w) => w.status)).toEqual(['cosigned', 'cosigned']);
      expect(r.quorumMet).toBe(true);
      // Parsers that know only the log key: the cosignature lines are unknown signatures, ignored.
      const plain = verifyNote(note, [key]);
      expect(plain.ignored.map((s) => s.name).sort()).toEqual(policy.witnesses.map((w) => w.name).sort());
      expect(r.checkpoint.size).toBeGreaterThanOrEqual(count);
    }
  });

  it('anchorlog trust --witness pins both witnesses; anchorlog witnessed verifies the served checkpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anchorlog-witness-e2e-'));
    const trustPath = join(dir, 'TRUST.json');
    const api = ['--api', stack.info.apiUrl, '--key', stack.info.apiKey];
    const w = stack.info.witnessVkeys.flatMap((v) => ['--witness', v]);
    const t = await cli(
      'trust',
      '--log',
      stack.info.logId,
      '-o',
      trustPath,
      ...w,
      '--witness-quorum',
      '2',
      ...api,
    );
    expect(t.code, t.err).toBe(0);
    expect(t.out).toMatch(/on the served checkpoint: cosigned/);
    const r = await cli('witnessed', '--log', stack.info.logId, '--trust', trustPath, ...api);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/2 of 2 witnesses cosigned, 2 required: MET/);

    // An exported bundle carries both cosignatures (attestations.json); verify checks them offline
    // against the pinned witness keys and the quorum (docs/witnessing.md §What an auditor gets).
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
    const v = await cli('verify', file, '--trust', trustPath, '--allow-incomplete', '--json');
    expect(v.code, v.out + v.err).toBe(0);
    const report = JSON.parse(v.out) as {
      format: number;
      witnesses: { pinned: number; quorum: number; cosigned: number };
      attestations: { kind: string; status: string }[];
    };
    expect(report.format).toBe(2);
    expect(report.witnesses).toMatchObject({ pinned: 2, quorum: 2, cosigned: 2 });
    expect(
      report.attestations.filter((a) => a.kind === 'witness-cosignature' && a.status === 'verified').length,
    ).toBeGreaterThanOrEqual(2);
  });

  it('tlog-proof round trip on the emulator-backed stack: prove --format tlog-proof, verify with the quorum pinned', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anchorlog-tlog-e2e-'));
    const trustPath = join(dir, 'TRUST.json');
    const api = ['--api', stack.info.apiUrl, '--key', stack.info.apiKey];
    const w = stack.info.witnessVkeys.flatMap((v) => ['--witness', v]);
    const t = await cli(
      'trust',
      '--log',
      stack.info.logId,
      '-o',
      trustPath,
      ...w,
      '--witness-quorum',
      '2',
      ...api,
    );
    expect(t.code, t.err).toBe(0);
    const file = join(dir, '5.tlog-proof');
    const p = await cli(
      'prove',
      '--log',
      stack.info.logId,
      '--index',
      '5',
      '--trust',
      trustPath,
      '--format',
      'tlog-proof',
      '-o',
      file,
      ...api,
    );
    expect(p.code, p.out + p.err).toBe(0);
    const text = await readFile(file, 'utf8');
    expect(text.startsWith('c2sp.org/tlog-proof@v1\n')).toBe(true);
    const v = await cli('verify', file, '--trust', trustPath, '--json');
    expect(v.code, v.out + v.err).toBe(0);

    // Pinned to a quorum the file cannot meet (a third witness that never cosigned, 3 of 3): exit 1.
    const trust = JSON.parse(await readFile(trustPath, 'utf8')) as Record<string, unknown>;
    const { cosignerFromSecret, formatCosignerKey } = await import('../../src/core/witness/index.ts');
    const absent = formatCosignerKey(
      cosignerFromSecret('witness-c.anchorlog.local', new Uint8Array(32).fill(9)),
    );
    const strict = join(dir, 'TRUST-3.json');
    await writeFile(
      strict,
      JSON.stringify({ ...trust, witnesses: [...(trust.witnesses as string[]), absent], witnessQuorum: 3 }),
    );
    const f = await cli('verify', file, '--trust', strict, '--json');
    expect(f.code, f.out + f.err).toBe(1);
    expect(f.out + f.err).toMatch(/WITNESS_QUORUM_NOT_MET/);
  });
});
