import { beforeAll, describe, expect, it } from 'vitest';
import { runVerify } from '../../src/cli/verify.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { vkeyFromSpki } from '../../src/core/note/index.ts';
import {
  anchorsFor,
  checkpointNote,
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
import { captureIo } from './support.ts';

let log: TestLog;
const files: Record<string, Uint8Array> = {};

beforeAll(async () => {
  log = makeLog(30);
  const bundle = await exportBundle(log, {
    fromTime: '2025-06-01T00:05:00.000Z',
    toTime: '2025-06-01T00:15:00.000Z',
  });
  files['/mem/bundle.tar'] = bundle;
  const ms = await members(bundle);
  const chunk = find(ms, 'records/000000.jsonl');
  const ls = lines(chunk);
  ls.splice(3, 1);
  setLines(chunk, ls);
  files['/mem/tampered.tar'] = repack(ms, { fix: true });
  const trust = { logKeys: [vkeyFromSpki(log.origin, log.signer.publicKeySpki)], tsaRoots: TSA_ROOTS_PEM };
  files['/mem/trust.json'] = utf8(JSON.stringify(trust));
  files['/mem/trust-keys-only.json'] = utf8(JSON.stringify({ logKeys: trust.logKeys }));
  files['/mem/bad.json'] = utf8('{ not json');
  files['/mem/unknown-field.json'] = utf8(JSON.stringify({ ...trust, extra: 1 }));
  files['/mem/bad-vkey.json'] = utf8(JSON.stringify({ ...trust, logKeys: ['nope+00000000+AA=='] }));
  files['/mem/bad-pem.json'] = utf8(JSON.stringify({ ...trust, tsaRoots: ['no certificate here'] }));
  files['/mem/origins-no-keys.json'] = utf8(
    JSON.stringify({ origins: [log.origin], tsaRoots: TSA_ROOTS_PEM }),
  );
  files['/mem/origin-no-key.json'] = utf8(JSON.stringify({ ...trust, origins: ['anchorlog.test/tenant-z'] }));
  files['/mem/origin-not-name.json'] = utf8(JSON.stringify({ ...trust, origins: ['has space'] }));
  files['/mem/origins-empty.json'] = utf8(JSON.stringify({ ...trust, origins: [] }));
  // Time-stamped by one of the two pinned TSAs only.
  const note = await checkpointNote(log, 30);
  const ecdsaOnly = (await anchorsFor(note, 30)).filter((a) => a.tsa === 'test-ecdsa');
  files['/mem/one-tsa.tar'] = await exportBundle(log, {
    fromTime: '2025-06-01T00:05:00.000Z',
    toTime: '2025-06-01T00:15:00.000Z',
    notes: [note],
    anchors: ecdsaOnly,
  });
  files['/mem/quorum-1.json'] = utf8(JSON.stringify({ ...trust, tsaQuorum: 1 }));
  files['/mem/quorum-2.json'] = utf8(JSON.stringify({ ...trust, tsaQuorum: 2 }));
  files['/mem/quorum-3.json'] = utf8(JSON.stringify({ ...trust, tsaQuorum: 3 }));
  files['/mem/quorum-0.json'] = utf8(JSON.stringify({ ...trust, tsaQuorum: 0 }));
  files['/mem/quorum-string.json'] = utf8(JSON.stringify({ ...trust, tsaQuorum: '2' }));
  files['/mem/quorum-no-roots.json'] = utf8(JSON.stringify({ logKeys: trust.logKeys, tsaQuorum: 1 }));
});

async function run(...argv: string[]) {
  const io = captureIo(files);
  const code = await runVerify(argv, io);
  return { code, out: io.out(), err: io.err() };
}

describe('anchorlog verify', () => {
  it('exits 0 with a readable report when pinned, and no warning', async () => {
    const r = await run('/mem/bundle.tar', '--trust', '/mem/trust.json');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('Bundle: OK');
    expect(r.out).toMatch(/indexes: +5\.\.14 \(10 record/);
    expect(r.out).toMatch(/complete: 10 record\(s\)/);
    expect(r.out).toMatch(/test-ecdsa: \d{4}-/);
    expect(r.err).not.toContain('WARNING');
  });

  // These two exited 0 before: a script checking the exit code could not tell
  // "proved against what I pinned" from "the bundle vouched for itself".
  it('without --trust: exits 3 (not against pinned trust) and warns loudly', async () => {
    const r = await run('/mem/bundle.tar');
    expect(r.code).toBe(3);
    expect(r.out).toMatch(/^Bundle: VERIFIED, BUT NOT AGAINST PINNED TRUST \(exit 3\)/);
    expect(r.err).toContain('WARNING');
    expect(r.err).toContain('LOG KEY');
    expect(r.err).toContain('TSA ROOTS');
  });

  it('with only log keys pinned: exits 3 and warns about the TSA roots only', async () => {
    const r = await run('/mem/bundle.tar', '--trust', '/mem/trust-keys-only.json');
    expect(r.code).toBe(3);
    expect(r.err).toContain('TSA ROOTS');
    expect(r.err).not.toContain('LOG KEY');
  });

  it('--json report', async () => {
    const r = await run('/mem/bundle.tar', '--trust', '/mem/trust.json', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({
      ok: true,
      logId: 'tenant-a',
      range: { firstIndex: 5, lastIndex: 14 },
      trustedBundleKeys: false,
      trustedBundleTsaRoots: false,
      completeness: { proved: true, start: 'record', end: 'record' },
      verdict: { exitCode: 0, status: 'ok', shortfalls: [], accepted: [] },
    });
  });

  it('exits 1 naming the record and the reason when a record is missing', async () => {
    const r = await run('/mem/tampered.tar', '--trust', '/mem/trust.json');
    expect(r.code).toBe(1);
    expect(r.out).toContain('Bundle: FAILED');
    expect(r.out).toContain('RANGE_INCOMPLETE');
    expect(r.out).toContain('record 8');
    expect(r.err).toMatch(/RANGE_INCOMPLETE: /);
    const j = await run('/mem/tampered.tar', '--trust', '/mem/trust.json', '--json');
    expect(j.code).toBe(1);
    expect(JSON.parse(j.out)).toMatchObject({
      ok: false,
      verdict: { exitCode: 1, status: 'failed' },
      error: { code: 'RANGE_INCOMPLETE', index: 8 },
    });
    // No flag turns a failure into anything else.
    const f = await run('/mem/tampered.tar', '--allow-untrusted', '--allow-incomplete');
    expect(f.code).toBe(1);
  });

  it('exits 1 when the pinned key did not sign the checkpoints', async () => {
    const other = makeLog(3, { logId: 'tenant-z' });
    files['/mem/other-trust.json'] = utf8(
      JSON.stringify({
        logKeys: [vkeyFromSpki(log.origin, other.signer.publicKeySpki)],
        tsaRoots: TSA_ROOTS_PEM,
      }),
    );
    const r = await run('/mem/bundle.tar', '--trust', '/mem/other-trust.json');
    expect(r.code).toBe(1);
    expect(r.out).toContain('UNTRUSTED_KEY');
  });

  it.each([
    ['no file', []],
    ['two files', ['/mem/bundle.tar', '/mem/bundle.tar']],
    ['missing file', ['/mem/nope.tar']],
    ['unknown flag', ['/mem/bundle.tar', '--bogus']],
    ['--trust without a value', ['/mem/bundle.tar', '--trust']],
    ['missing trust file', ['/mem/bundle.tar', '--trust', '/mem/nope.json']],
    ['trust file not JSON', ['/mem/bundle.tar', '--trust', '/mem/bad.json']],
    ['trust file with an unknown field', ['/mem/bundle.tar', '--trust', '/mem/unknown-field.json']],
    ['trust file with a bad vkey', ['/mem/bundle.tar', '--trust', '/mem/bad-vkey.json']],
    ['trust file with a bad PEM', ['/mem/bundle.tar', '--trust', '/mem/bad-pem.json']],
    ['origins without logKeys', ['/mem/bundle.tar', '--trust', '/mem/origins-no-keys.json']],
    ['an origin no pinned key is named after', ['/mem/bundle.tar', '--trust', '/mem/origin-no-key.json']],
    ['an origin that is not a key name', ['/mem/bundle.tar', '--trust', '/mem/origin-not-name.json']],
    ['empty origins', ['/mem/bundle.tar', '--trust', '/mem/origins-empty.json']],
    ['--allow-untrusted with a value', ['/mem/bundle.tar', '--allow-untrusted=yes']],
    ['tsaQuorum above the pinned roots', ['/mem/bundle.tar', '--trust', '/mem/quorum-3.json']],
    ['tsaQuorum 0', ['/mem/bundle.tar', '--trust', '/mem/quorum-0.json']],
    ['tsaQuorum not a number', ['/mem/bundle.tar', '--trust', '/mem/quorum-string.json']],
    ['tsaQuorum without tsaRoots', ['/mem/bundle.tar', '--trust', '/mem/quorum-no-roots.json']],
  ])('usage error exits 2: %s', async (_n, argv) => {
    const r = await run(...(argv as string[]));
    expect(r.code, r.err).toBe(2);
    expect(r.err).toContain('usage: anchorlog verify');
  });

  it('--json on a usage error: the error as JSON on stdout, the usage line on stderr', async () => {
    const r = await run('/mem/bundle.tar', '--trust', '/mem/nope.json', '--json');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out)).toEqual({
      ok: false,
      error: {
        code: 'UNREADABLE_FILE',
        message: expect.stringMatching(/^--trust: cannot read \/mem\/nope\.json: /),
        usage: expect.stringMatching(/^usage: anchorlog verify FILE/),
      },
    });
    expect(r.err).toContain('usage: anchorlog verify');
    const t = await run('/mem/bundle.tar', '--trust', '/mem/unknown-field.json', '--json');
    expect(JSON.parse(t.out)).toMatchObject({ ok: false, error: { code: 'BAD_FILE' } });
  });

  it('--help exits 0', async () => {
    const r = await run('--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('usage: anchorlog verify');
  });
});

describe('anchorlog verify: the TSA quorum (TRUST.json tsaQuorum)', () => {
  it('prints "existed by" as the quorum-th earliest time of distinct TSAs', async () => {
    const r = await run('/mem/bundle.tar', '--trust', '/mem/quorum-2.json');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/existed by \S+Z: 2 of 2 distinct TSA\(s\)/);
    expect(r.out).toMatch(/test-ecdsa: \S+Z ± \d+ ms by .*; existed by \S+Z/);
  });

  it("two pinned roots and one TSA's tokens: exit 1 (the default quorum is 2); tsaQuorum 1 accepts it", async () => {
    const r = await run('/mem/one-tsa.tar', '--trust', '/mem/trust.json');
    expect(r.code).toBe(1);
    expect(r.out).toContain('TIMESTAMP_QUORUM_NOT_MET');
    const j = await run('/mem/one-tsa.tar', '--trust', '/mem/trust.json', '--json', '--allow-untrusted');
    expect(j.code).toBe(1);
    expect(JSON.parse(j.out)).toMatchObject({ ok: false, error: { code: 'TIMESTAMP_QUORUM_NOT_MET' } });
    const one = await run('/mem/one-tsa.tar', '--trust', '/mem/quorum-1.json', '--json');
    expect(one.code, one.err).toBe(0);
    expect(JSON.parse(one.out)).toMatchObject({ timeStamps: { quorum: 1, distinctTsas: 1 } });
  });
});

describe('anchorlog verify: pinned roots that are not certificates', () => {
  it('exit 2', async () => {
    files['/mem/garbage-root.json'] = utf8(
      JSON.stringify({
        logKeys: [vkeyFromSpki(log.origin, log.signer.publicKeySpki)],
        tsaRoots: ['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'],
      }),
    );
    const r = await run('/mem/bundle.tar', '--trust', '/mem/garbage-root.json');
    expect(r.code, r.err).toBe(2);
  });
});
