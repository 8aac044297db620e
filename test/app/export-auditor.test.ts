/**
 * The auditor's request, end to end: "produce all records of privileged
 * access changes between March 1 and June 30". Events are appended through
 * the real ingest path with receivedAt spread over Jan–Aug 2026, sealed by the
 * real sealer, time-stamped by the two OpenSSL TSAs, exported by
 * ExportService to a file, and verified offline — by verifyBundle with pinned
 * trust and by the real `anchorlog verify FILE --trust TRUST.json`.
 */
import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ExportProgress } from '../../src/app/export.ts';
import { runMain } from '../../src/cli/main.ts';
import { verifyBundle } from '../../src/core/bundle/index.ts';
import { decodeRecord } from '../../src/core/record.ts';
import { decodePemCertificates } from '../../src/core/rfc3161/pem.ts';
import {
  appendAt,
  type ExportEnv,
  memoryExportEnv,
  type PlannedEvent,
  sealAndAnchor,
} from './export-harness.ts';

const LOG = 'tenant-acme';
let env: ExportEnv;
let work: string;
/** Every record appended: index → (receivedAt, action). */
const appended: { index: number; receivedAt: string; action: string; actor: string }[] = [];
const sizes: number[] = [];

const ACTIONS = ['tool.call', 'access.grant', 'agent.task.submit', 'access.revoke', 'config.update'];

async function batch(at: string, n: number, seed: number): Promise<void> {
  const events: PlannedEvent[] = Array.from({ length: n }, (_, i) => ({
    action: ACTIONS[(seed + i * 3) % ACTIONS.length] as string,
    actor: `user-${(seed + i) % 4}`,
    target: `res-${seed}-${i}`,
  }));
  const first = await appendAt(env, LOG, at, events);
  events.forEach((e, i) => {
    appended.push({
      index: first + i,
      receivedAt: new Date(at).toISOString(),
      action: e.action,
      actor: e.actor,
    });
  });
}

async function exportToFile(
  name: string,
  params: Parameters<ReturnType<ExportEnv['exporter']>['export']>[1],
) {
  const file = join(work, name);
  const out = createWriteStream(file);
  const progress: ExportProgress[] = [];
  const result = await env.exporter({ chunkBytes: 4096, batchesPerRead: 3 }).export(
    LOG,
    params,
    (chunk) =>
      new Promise<void>((resolve, reject) => {
        out.write(chunk, (err) => (err ? reject(err) : resolve()));
      }),
    { onProgress: (p) => progress.push(p) },
  );
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
  return { file, result, progress };
}

function trust() {
  return {
    logKeys: [env.vkey(LOG)],
    tsaRoots: env.tsaRootsPem.flatMap((p) => decodePemCertificates(p)),
  };
}

beforeAll(async () => {
  env = await memoryExportEnv();
  work = mkdtempSync(join(tmpdir(), 'anchorlog-export-auditor-'));
  await env.logRegistry.createLog(LOG);
  // January–February, then a seal and anchor (an older checkpoint).
  await batch('2026-01-10T09:00:00.000Z', 7, 1);
  await batch('2026-02-03T10:30:00.000Z', 5, 2);
  await batch('2026-02-28T23:59:59.999Z', 4, 3);
  sizes.push(await sealAndAnchor(env, LOG));
  // March–June: the audited period, several batches a month.
  const inRange = [
    ['2026-03-01T00:00:00.000Z', 6],
    ['2026-03-15T08:00:00.000Z', 9],
    ['2026-04-02T12:00:00.000Z', 3],
    ['2026-04-20T17:45:00.000Z', 11],
    ['2026-05-05T06:00:00.000Z', 8],
  ] as const;
  let seed = 10;
  for (const [at, n] of inRange) await batch(at, n, seed++);
  sizes.push(await sealAndAnchor(env, LOG));
  await batch('2026-06-12T14:00:00.000Z', 12, seed++);
  await batch('2026-06-30T23:59:59.999Z', 5, seed++);
  // July: just past the range; sealed and anchored (the earliest time-stamp past the range).
  await batch('2026-07-01T00:00:00.000Z', 6, seed++);
  sizes.push(await sealAndAnchor(env, LOG));
  // August: more records, the newest checkpoint and anchor.
  await batch('2026-08-09T11:00:00.000Z', 10, seed++);
  await batch('2026-08-30T11:00:00.000Z', 3, seed++);
  sizes.push(await sealAndAnchor(env, LOG));
}, 120_000);

const FROM = '2026-03-01';
const TO = '2026-07-01T00:00:00Z';
const inPeriod = () =>
  appended.filter(
    (r) => r.receivedAt >= '2026-03-01T00:00:00.000Z' && r.receivedAt < '2026-07-01T00:00:00.000Z',
  );

describe('the auditor: privileged access changes, March 1 – June 30 2026', () => {
  it('exports only access.* records of the period, and the bundle verifies with pinned trust', async () => {
    const expected = inPeriod().filter((r) => r.action.startsWith('access.'));
    expect(expected.length).toBeGreaterThan(5);
    const { file, result, progress } = await exportToFile('access.tar', {
      from: FROM,
      to: TO,
      actionPrefix: 'access.',
    });
    expect(result.records).toBe(expected.length);
    expect(result.filter).toEqual({ actionPrefix: 'access.' });
    expect(result.firstIndex).toBe(inPeriod()[0]?.index);
    expect(result.lastIndex).toBe(inPeriod().at(-1)?.index);
    expect(result.checkpointSize).toBe(sizes.at(-1));
    // The earliest time-stamp past the range (July) and the newest (August).
    expect(result.anchoredSizes).toEqual([sizes[2], sizes[3]]);
    const bytes = readFileSync(file);
    expect(bytes.length).toBe(result.bytes);
    const last = progress.at(-1);
    expect(last).toMatchObject({
      written: expected.length,
      scanned: inPeriod().length,
      total: inPeriod().length,
    });

    const report = await verifyBundle(bytes, trust());
    expect(report.ok).toBe(true);
    expect(report.mode).toBe('filtered');
    expect(report.trustedBundleKeys).toBe(false);
    expect(report.trustedBundleTsaRoots).toBe(false);
    expect(report.records.count).toBe(expected.length);
    expect(report.anchors.map((a) => a.tsa).sort()).toEqual(['ecdsa', 'ecdsa', 'rsa', 'rsa']);

    // Exactly the expected records, in index order, each an access change of the period.
    const records = recordsOf(bytes);
    expect(records.map((r) => r.index)).toEqual(expected.map((r) => r.index));
    for (const r of records) {
      expect(r.event.action).toMatch(/^access\.(grant|revoke)$/);
      expect(r.receivedAt >= '2026-03-01T00:00:00.000Z' && r.receivedAt < '2026-07-01T00:00:00.000Z').toBe(
        true,
      );
    }
  });

  it("exports only one actor's records (alone, and AND-ed with an action prefix), and the bundles verify", async () => {
    for (const [name, params, keep] of [
      ['actor.tar', { actorId: 'user-1' }, (r: { actor: string }) => r.actor === 'user-1'],
      [
        'actor-access.tar',
        { actorId: 'user-1', actionPrefix: 'access.' },
        (r: { actor: string; action: string }) => r.actor === 'user-1' && r.action.startsWith('access.'),
      ],
    ] as const) {
      const expected = inPeriod().filter(keep);
      expect(expected.length).toBeGreaterThan(0);
      const { file, result } = await exportToFile(name, { from: FROM, to: TO, ...params });
      expect(result.records).toBe(expected.length);
      expect(result.filter).toEqual(params);
      const bytes = readFileSync(file);
      const report = await verifyBundle(bytes, trust());
      expect(report.ok).toBe(true);
      expect(report.mode).toBe('filtered');
      expect(report.filter).toEqual(params);
      expect(report.filterText).toContain('actor "user-1"');
      expect(report.records.count).toBe(expected.length);
      const records = recordsOf(bytes);
      expect(records.map((r) => r.index)).toEqual(expected.map((r) => r.index));
      for (const r of records) expect(r.event.actor.id).toBe('user-1');
    }
  });

  it('an unfiltered export of the same period verifies as complete (both neighbours outside the range)', async () => {
    const period = inPeriod();
    const { file, result } = await exportToFile('range.tar', { from: FROM, to: TO });
    expect(result.records).toBe(period.length);
    const report = await verifyBundle(readFileSync(file), trust());
    expect(report.mode).toBe('range');
    expect(report.completeness).toEqual({ proved: true, start: 'record', end: 'record' });
    expect(report.range).toMatchObject({
      firstIndex: period[0]?.index,
      lastIndex: period.at(-1)?.index,
    });
    expect(report.records).toMatchObject({
      count: period.length,
      firstReceivedAt: '2026-03-01T00:00:00.000Z',
      lastReceivedAt: '2026-06-30T23:59:59.999Z',
    });
    expect(report.warnings).toEqual([]);
    expect(recordsOf(readFileSync(file)).map((r) => r.index)).toEqual(period.map((r) => r.index));
  });

  it('the real CLI: anchorlog verify FILE --trust TRUST.json exits 4 for a filtered export, 0 with --allow-incomplete (and 1 on a flipped byte)', async () => {
    const { file } = await exportToFile('cli.tar', { from: FROM, to: TO, actionPrefix: 'access.' });
    const trustFile = join(work, 'TRUST.json');
    writeFileSync(trustFile, JSON.stringify({ logKeys: [env.vkey(LOG)], tsaRoots: env.tsaRootsPem }));
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      stdout: (t: string) => void out.push(t),
      stderr: (t: string) => void err.push(t),
      readFile: async (p: string) => new Uint8Array(await readFile(p)),
    };
    // Exit 0 claimed completeness here before; a filter's completeness is not proved.
    expect(await runMain(['verify', file, '--trust', trustFile], io)).toBe(4);
    expect(out.join('')).toContain('Bundle: VERIFIED, COMPLETENESS NOT PROVED (exit 4)');
    expect(await runMain(['verify', file, '--trust', trustFile, '--allow-incomplete'], io)).toBe(0);
    expect(out.join('')).toContain('Bundle: OK (accepted with --allow-incomplete)');
    expect(err.join('')).not.toContain('WARNING');

    // A byte of a record's action (canonical JSON, so no space after the colon).
    // The first '"access.' is README.txt's, which is informative: flipping it changes nothing.
    const bytes = readFileSync(file);
    const records = bytes.indexOf(Buffer.from('"action":"access.'));
    expect(records).toBeGreaterThan(bytes.indexOf(Buffer.from('records/000000.jsonl')));
    bytes[records + 11] = (bytes[records + 11] as number) ^ 1;
    const bad = join(work, 'tampered.tar');
    writeFileSync(bad, bytes);
    expect(await runMain(['verify', bad, '--trust', trustFile], io)).toBe(1);
  });

  it('a period with no records at all still proves its (empty) completeness', async () => {
    const { file, result } = await exportToFile('empty.tar', {
      from: '2026-07-15T00:00:00Z',
      to: '2026-08-01T00:00:00Z',
    });
    expect(result.records).toBe(0);
    const report = await verifyBundle(readFileSync(file), trust());
    expect(report.completeness).toEqual({ proved: true, start: 'record', end: 'record' });
    expect(report.records.count).toBe(0);
  });

  it('a period starting before the log proves completeness from the log start', async () => {
    const { file, result } = await exportToFile('start.tar', { from: '2025-12-01', to: '2026-02-01' });
    expect(result.firstIndex).toBe(0);
    expect(result.records).toBe(7);
    const report = await verifyBundle(readFileSync(file), trust());
    expect(report.completeness).toEqual({ proved: true, start: 'log-start', end: 'record' });
  });
});

function recordsOf(tar: Uint8Array) {
  // Walk the ustar members; records/*.jsonl hold one canonical record per line.
  const out: ReturnType<typeof decodeRecord>[] = [];
  let off = 0;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const name = Buffer.from(h.subarray(0, 100)).toString('utf8').replace(/\0.*$/s, '');
    const size = Number.parseInt(
      Buffer.from(h.subarray(124, 136)).toString('utf8').replace(/\0.*$/s, '').trim(),
      8,
    );
    const data = tar.subarray(off + 512, off + 512 + size);
    if (name.startsWith('records/')) {
      for (const line of Buffer.from(data).toString('utf8').split('\n'))
        if (line) out.push(decodeRecord(new TextEncoder().encode(line)));
    }
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}
