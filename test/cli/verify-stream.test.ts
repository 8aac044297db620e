/**
 * `anchorlog verify` streams the bundle from its file and stays within the
 * memory bound docs/bundle.md §Memory states, whatever the file holds. Each
 * case runs the real command in a child process (bin/anchorlog.mjs with
 * ANCHORLOG_REPORT_RSS=1, which reports its peak RSS, worker threads
 * included; verify runs under its V8 heap cap) on a generated
 * hostile archive — huge declared sizes, a 900 MB member of zeros, truncated
 * members, more members than a manifest can list, one endless line, a member
 * of newlines, a member of NULs, a gigabyte of zeros — and asserts a clear
 * coded refusal (exit 1, the code in --json, no stack trace) under the bound.
 * Large inputs are sparse files: the disk holds almost nothing, the verifier
 * still reads every byte.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_MEMBERS } from '../../src/core/bundle/format.ts';
import { tarHeader } from '../../src/core/bundle/tar.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { canonicalBytes } from '../../src/core/canonical.ts';
import { vkeyFromSpki } from '../../src/core/note/index.ts';
import {
  exportBundle,
  find,
  lines,
  makeLog,
  members,
  repack,
  setLines,
  type TestLog,
  TSA_ROOTS_PEM,
} from '../core/bundle/fixture.ts';

/**
 * docs/bundle.md §Memory: the peak RSS `anchorlog verify` stays under, whatever the bundle, with the
 * default worker threads on this 2-core machine (448 MiB + 128 MiB per thread).
 */
const BOUND_MIB = 448 + 128 * Math.min(4, availableParallelism());
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

let dir: string;
let log: TestLog;
let trustPath: string;
let valid: Uint8Array;

interface Run {
  exitCode: number;
  maxRssMiB: number;
  json: { ok: boolean; error?: { code: string; member: string | null; index: number | null } };
  stderr: string;
}

function verify(file: string, trust = trustPath, extra: string[] = []): Run {
  const r = spawnSync(
    process.execPath,
    ['bin/anchorlog.mjs', 'verify', file, '--trust', trust, '--json', ...extra],
    {
      encoding: 'utf8',
      maxBuffer: 64 * MiB,
      timeout: 240_000,
      env: { ...process.env, ANCHORLOG_REPORT_RSS: '1' },
    },
  );
  const m = /\nRSS (\{.*\})\n$/.exec(r.stderr);
  if (!m) throw new Error(`no RSS line (status ${r.status}, signal ${r.signal}): ${r.stderr.slice(-2000)}`);
  const rss = JSON.parse(m[1] as string) as { exitCode: number; maxRssKiB: number };
  // The figures docs/bundle.md §Memory quotes.
  console.log(
    `${file.split('/').pop()}: exit ${rss.exitCode}, peak RSS ${Math.round(rss.maxRssKiB / 1024)} MiB`,
  );
  return {
    exitCode: rss.exitCode,
    maxRssMiB: Math.round(rss.maxRssKiB / 1024),
    json: JSON.parse(r.stdout) as Run['json'],
    stderr: r.stderr.slice(0, m.index),
  };
}

function expectRefused(run: Run, code: string): void {
  expect(run.exitCode, run.stderr).toBe(1);
  expect(run.json.ok).toBe(false);
  expect(run.json.error?.code).toBe(code);
  // A refusal, not a crash: no stack trace.
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(run.maxRssMiB).toBeLessThan(BOUND_MIB);
}

function write(name: string, ...parts: Uint8Array[]): string {
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat(parts));
  return path;
}

/** The valid bundle's members with one records chunk replaced (no fix-up: the records check comes first). */
async function withChunk(data: Uint8Array): Promise<Uint8Array> {
  const ms = await members(valid);
  find(ms, 'records/000000.jsonl').data = data;
  return repack(ms, { fix: false });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'anchorlog-verify-stream-'));
  log = makeLog(3000, { stepMs: 1000 });
  valid = await exportBundle(log, {
    fromTime: log.receivedAt[100] as string,
    toTime: log.receivedAt[2900] as string,
    chunkBytes: 64 * 1024,
  });
  trustPath = write(
    'TRUST.json',
    utf8(
      JSON.stringify({
        logKeys: [vkeyFromSpki(log.origin, log.signer.publicKeySpki)],
        tsaRoots: TSA_ROOTS_PEM,
      }),
    ),
  );
}, 120_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('anchorlog verify streams the bundle within a fixed memory bound', () => {
  it('a valid bundle of many records chunks verifies (worker threads)', () => {
    const run = verify(write('valid.tar', valid));
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ ok: true, records: { count: 2800 } });
    expect(run.maxRssMiB).toBeLessThan(BOUND_MIB);
  });

  it('a record edited in a middle chunk: the same code and record with worker threads and without', async () => {
    const ms = await members(valid);
    const chunk = find(ms, 'records/000010.jsonl');
    const ls = lines(chunk);
    const r = JSON.parse(ls[1] as string) as { index: number; event: { outcome: string } };
    r.event.outcome = 'failure';
    ls[1] = new TextDecoder().decode(canonicalBytes(r));
    setLines(chunk, ls);
    const file = write('edited.tar', repack(ms, { fix: true }));
    const threaded = verify(file);
    expectRefused(threaded, 'CHAIN_BROKEN');
    const single = verify(file, trustPath, ['--threads', '0']);
    expect(single.json).toStrictEqual(threaded.json);
    expect(threaded.json.error).toMatchObject({ index: r.index + 1 });
  });

  it('a valid bundle followed by 1 GiB of zeros verifies, the gigabyte read in bounded memory', () => {
    const file = write('valid-zeros.tar', valid);
    truncateSync(file, valid.length + GiB);
    const run = verify(file);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.maxRssMiB).toBeLessThan(BOUND_MIB);
  });

  it('1 GiB of zeros is an empty archive: README.txt is missing', () => {
    const file = write('zeros.tar');
    truncateSync(file, GiB);
    expectRefused(verify(file), 'MISSING_MEMBER');
  });

  it('a member declaring 8 GiB is refused from its header', () => {
    const h = tarHeader('README.txt', 0, 0);
    // Rewrite the size field to 0o77777777777 and fix the checksum.
    h.set(utf8('77777777777\0'), 124);
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    h.set(utf8(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
    const run = verify(write('huge-size.tar', h, new Uint8Array(MiB)));
    expectRefused(run, 'ARCHIVE_INVALID');
    expect(run.json.error?.member).toBe('README.txt');
  });

  it('a 900 MB member of zeros is refused before its body is read', () => {
    const file = write('900mb.tar', tarHeader('records/000000.jsonl', 900_000_000, 0));
    truncateSync(file, 512 + 900_000_000);
    const run = verify(file);
    expectRefused(run, 'ARCHIVE_INVALID');
    expect(run.json.error?.member).toBe('records/000000.jsonl');
  });

  it('a member truncated by the end of the file', () => {
    const cut = valid.length - 200 * 1024;
    expectRefused(verify(write('truncated.tar', valid.subarray(0, cut))), 'ARCHIVE_INVALID');
  });

  it('a header with no member after it, and a file shorter than a header', () => {
    expectRefused(verify(write('header-only.tar', tarHeader('README.txt', 100, 0))), 'ARCHIVE_INVALID');
    expectRefused(verify(write('short.tar', new Uint8Array(100))), 'ARCHIVE_INVALID');
  });

  it('one endless line: a 16 MiB records chunk with no newline', async () => {
    const run = verify(write('endless.tar', await withChunk(new Uint8Array(16 * MiB).fill(0x61))));
    expectRefused(run, 'RECORD_INVALID');
  });

  it('a 16 MiB records chunk of newlines (16 M empty lines), and one of NUL bytes', async () => {
    const newlines = verify(write('newlines.tar', await withChunk(new Uint8Array(16 * MiB).fill(0x0a))));
    expectRefused(newlines, 'RECORD_INVALID');
    const nuls = new Uint8Array(16 * MiB);
    nuls[nuls.length - 1] = 0x0a;
    expectRefused(verify(write('nuls.tar', await withChunk(nuls))), 'RECORD_INVALID');
  });

  it('a records chunk over the 16 MiB limit is refused from its header', async () => {
    const run = verify(write('big-chunk.tar', await withChunk(new Uint8Array(16 * MiB + 1).fill(0x0a))));
    expectRefused(run, 'ARCHIVE_INVALID');
    expect(run.json.error?.member).toBe('records/000000.jsonl');
  });

  it('very many members: a real bundle of one-record chunks with more members than a manifest can list', async () => {
    // MAX_MEMBERS records, one per chunk: with the other members the bundle has more members than a
    // 16 MiB manifest.json can list, so it could never verify; it is refused at the first member
    // beyond MAX_MEMBERS, with nothing per member kept beyond that many.
    const many = makeLog(MAX_MEMBERS, { stepMs: 1000, metadata: () => ({}) });
    const bundle = await exportBundle(many, {
      fromTime: many.receivedAt[0] as string,
      toTime: '2030-01-01T00:00:00.000Z',
      chunkBytes: 1,
    });
    const trust = utf8(
      JSON.stringify({
        logKeys: [vkeyFromSpki(many.origin, many.signer.publicKeySpki)],
        tsaRoots: TSA_ROOTS_PEM,
      }),
    );
    const run = verify(write('many.tar', bundle), write('many-trust.json', trust));
    expectRefused(run, 'ARCHIVE_INVALID');
    expect(run.json.error?.member).toMatch(/^records\/\d{6}\.jsonl$/);
  }, 240_000);
});
