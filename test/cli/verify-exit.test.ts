/**
 * `anchorlog verify` exits 0 only when every claim it prints was proved
 * against pinned trust and the range was proved complete (README "Exit
 * codes", docs/bundle.md §Verifying). Every path through the real command
 * dispatcher (runMain), and the exit status of the installed bin as a process.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalNoteSigner } from '../../src/adapters/memory/local-signer.ts';
import { runMain } from '../../src/cli/main.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { vkeyFromSpki } from '../../src/core/note/index.ts';
import {
  checkpointNote,
  exportBundle,
  makeLog,
  sameKeyNamed,
  type TestLog,
  TSA_ROOTS_PEM,
} from '../core/bundle/fixture.ts';
import { skipChildProcesses } from '../support/tier.ts';
import { captureIo } from './support.ts';

const FROM = '2025-06-01T00:05:00.000Z';
const TO = '2025-06-01T00:15:00.000Z';
const files: Record<string, Uint8Array> = {};
let log: TestLog;

async function run(...argv: string[]) {
  const io = captureIo(files);
  const code = await runMain(['verify', ...argv], io);
  return { code, out: io.out(), err: io.err() };
}

beforeAll(async () => {
  log = makeLog(30);
  const vkey = vkeyFromSpki(log.origin, log.signer.publicKeySpki);
  // Records 5..14 of 30, closed by record 15: complete.
  files['/complete.tar'] = await exportBundle(log, { fromTime: FROM, toTime: TO });
  files['/filtered.tar'] = await exportBundle(log, {
    fromTime: FROM,
    toTime: TO,
    filter: { actionPrefix: 'access.' },
  });
  // Records 5..14 under checkpoint 15: nothing shows that no record 15 falls before TO.
  files['/open-end.tar'] = await exportBundle(log, { fromTime: FROM, toTime: TO, checkpoints: [15] });
  const json = (v: unknown) => utf8(JSON.stringify(v));
  files['/trust.json'] = json({ logKeys: [vkey], tsaRoots: TSA_ROOTS_PEM });
  files['/trust-origins.json'] = json({ logKeys: [vkey], origins: [log.origin], tsaRoots: TSA_ROOTS_PEM });
  files['/keys-only.json'] = json({ logKeys: [vkey] });
  files['/roots-only.json'] = json({ tsaRoots: TSA_ROOTS_PEM });
});

describe('anchorlog verify: exit codes', () => {
  const cases: Array<[string, string[], number, string]> = [
    [
      'full pass: pinned keys and roots, complete range',
      ['/complete.tar', '--trust', '/trust.json'],
      0,
      'ok',
    ],
    ['full pass with origins pinned', ['/complete.tar', '--trust', '/trust-origins.json'], 0, 'ok'],
    ['no --trust', ['/complete.tar'], 3, 'untrusted'],
    ['only logKeys pinned', ['/complete.tar', '--trust', '/keys-only.json'], 3, 'untrusted'],
    ['only tsaRoots pinned', ['/complete.tar', '--trust', '/roots-only.json'], 3, 'untrusted'],
    ['filtered export', ['/filtered.tar', '--trust', '/trust.json'], 4, 'incomplete'],
    ['range ending at an older checkpoint', ['/open-end.tar', '--trust', '/trust.json'], 4, 'incomplete'],
    ['untrusted and incomplete: 3 wins', ['/filtered.tar'], 3, 'untrusted'],
    ['no --trust, --allow-untrusted', ['/complete.tar', '--allow-untrusted'], 0, 'ok'],
    [
      'only logKeys, --allow-untrusted',
      ['/complete.tar', '--trust', '/keys-only.json', '--allow-untrusted'],
      0,
      'ok',
    ],
    [
      'only tsaRoots, --allow-untrusted',
      ['/complete.tar', '--trust', '/roots-only.json', '--allow-untrusted'],
      0,
      'ok',
    ],
    [
      'filtered, --allow-incomplete',
      ['/filtered.tar', '--trust', '/trust.json', '--allow-incomplete'],
      0,
      'ok',
    ],
    [
      'open end, --allow-incomplete',
      ['/open-end.tar', '--trust', '/trust.json', '--allow-incomplete'],
      0,
      'ok',
    ],
    [
      'untrusted and incomplete, --allow-untrusted only',
      ['/filtered.tar', '--allow-untrusted'],
      4,
      'incomplete',
    ],
    [
      'untrusted and incomplete, --allow-incomplete only',
      ['/filtered.tar', '--allow-incomplete'],
      3,
      'untrusted',
    ],
    [
      'untrusted and incomplete, both flags',
      ['/filtered.tar', '--allow-untrusted', '--allow-incomplete'],
      0,
      'ok',
    ],
    [
      'a complete, pinned bundle ignores the flags',
      ['/complete.tar', '--trust', '/trust.json', '--allow-incomplete'],
      0,
      'ok',
    ],
  ];

  it.each(cases)('%s', async (_n, argv, exit, status) => {
    const r = await run(...argv);
    expect(r.code, r.err).toBe(exit);
    const first = r.out.split('\n')[0];
    if (exit === 0) expect(first).toMatch(/^Bundle: OK/);
    if (exit === 3) expect(first).toBe('Bundle: VERIFIED, BUT NOT AGAINST PINNED TRUST (exit 3)');
    if (exit === 4) expect(first).toBe('Bundle: VERIFIED, COMPLETENESS NOT PROVED (exit 4)');
    const j = await run(...argv, '--json');
    expect(j.code).toBe(exit);
    const report = JSON.parse(j.out);
    // `ok` follows the exit code: a script reading it cannot mistake 3 or 4 for a proof.
    expect(report).toMatchObject({ ok: exit === 0, verified: true });
    expect(report.verdict).toMatchObject({ exitCode: exit, status });
    // Every shortfall is either accepted by a flag or is why the exit is not 0.
    const open = report.verdict.shortfalls.filter(
      (s: { code: string }) => !report.verdict.accepted.some((a: { code: string }) => a.code === s.code),
    );
    expect(open.length === 0).toBe(exit === 0);
  });

  it('names each shortfall with a code in --json', async () => {
    const j = JSON.parse((await run('/filtered.tar', '--trust', '/roots-only.json', '--json')).out);
    expect(j.verdict.shortfalls.map((s: { code: string; exitCode: number }) => [s.code, s.exitCode])).toEqual(
      [
        ['UNTRUSTED_LOG_KEY', 3],
        ['COMPLETENESS_NOT_PROVED', 4],
      ],
    );
    const o = JSON.parse((await run('/open-end.tar', '--json', '--allow-untrusted')).out);
    expect(o.verdict).toMatchObject({ exitCode: 4, status: 'incomplete' });
    expect(o.verdict.shortfalls.map((s: { code: string }) => s.code)).toEqual([
      'UNTRUSTED_LOG_KEY',
      'UNTRUSTED_TSA_ROOTS',
      'RANGE_NOT_CLOSED',
    ]);
    expect(o.verdict.accepted.map((s: { code: string }) => s.code)).toEqual([
      'UNTRUSTED_LOG_KEY',
      'UNTRUSTED_TSA_ROOTS',
    ]);
    expect(o.completeness).toEqual({ proved: false, start: 'record', end: 'checkpoint-end' });
  });

  it('an accepted shortfall is still printed', async () => {
    const r = await run('/filtered.tar', '--trust', '/trust.json', '--allow-incomplete');
    expect(r.out).toMatch(/^Bundle: OK \(accepted with --allow-incomplete\)/);
    expect(r.out).toContain('COMPLETENESS_NOT_PROVED');
  });
});

describe('anchorlog verify: the rename attack through the CLI', () => {
  it("log B's bundle, signature line renamed to A's key name, is refused under A's TRUST.json (exit 1)", async () => {
    const key = LocalNoteSigner.generate('anchorlog.test/tenant-a');
    const a = makeLog(30, { logId: 'tenant-a', signer: key });
    const b = makeLog(30, { logId: 'tenant-b', signer: sameKeyNamed(key, 'anchorlog.test/tenant-b') });
    const note = (await checkpointNote(b, 30)).replace(
      '\n— anchorlog.test/tenant-b ',
      '\n— anchorlog.test/tenant-a ',
    );
    files['/renamed.tar'] = await exportBundle(b, { fromTime: FROM, toTime: TO, notes: [note] });
    files['/trust-a.json'] = utf8(
      JSON.stringify({ logKeys: [vkeyFromSpki(a.origin, key.publicKeySpki)], tsaRoots: TSA_ROOTS_PEM }),
    );
    const r = await run('/renamed.tar', '--trust', '/trust-a.json');
    expect(r.code, r.out).toBe(1);
    expect(r.out).toContain('ORIGIN_NOT_PINNED');
    expect(r.err).toMatch(/ORIGIN_NOT_PINNED: /);
  });
});

describe('anchorlog verify: the installed command exits with these codes', () => {
  it.skipIf(skipChildProcesses)('bin/anchorlog.mjs: 0, 3 and 4 as process exit statuses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'anchorlog-verify-exit-'));
    for (const f of ['complete.tar', 'filtered.tar', 'trust.json'])
      writeFileSync(join(dir, f), files[`/${f}`] as Uint8Array);
    const bin = join(import.meta.dirname, '../../bin/anchorlog.mjs');
    const status = (args: string[]) =>
      promisify(execFile)(process.execPath, [bin, 'verify', ...args], { cwd: dir }).then(
        () => 0,
        (e: { code: number }) => e.code,
      );
    // In parallel: tsx start-up dominates.
    const got = await Promise.all([
      status(['complete.tar', '--trust', 'trust.json']),
      status(['complete.tar']),
      status(['filtered.tar', '--trust', 'trust.json']),
    ]);
    expect(got).toEqual([0, 3, 4]);
  });
});
