/**
 * `anchorlog alerts …` through the real dispatcher: the API commands against
 * a real HTTP server running the real alert routes over AlertReviewService on
 * moto, checked by what the store and the `system` log end up holding; and
 * `report --bundle`, which verifies first and refuses (with no report) a
 * bundle that fails, that was not checked against pinned trust, whose
 * completeness is not proved, that is not of the system log or does not cover
 * the period.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertsCommands } from '../../src/cli/alerts.ts';
import { runMain } from '../../src/cli/main.ts';
import { ALERT_REPORT_COLUMNS } from '../../src/core/detect/report.ts';
import { vkeyFromSpki } from '../../src/core/note/index.ts';
import { issueApiKey } from '../../src/core/principal.ts';
import { createRouter } from '../../src/http/router.ts';
import { alertRoutes } from '../../src/http/routes/alerts.ts';
import { type LocalHttpServer, startHttpServer } from '../../src/local/http-server.ts';
import { type AlertsOnMoto, alertsOnMoto } from '../app/alerts-moto.ts';
import { exportBundle, makeLog, type TestLog, TSA_ROOTS_PEM } from '../core/bundle/fixture.ts';
import { captureIo } from './support.ts';

const STACK = /^\s+at .+[(:]\d+/m;
let dir: string;
let server: LocalHttpServer;
let env: AlertsOnMoto;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'anchorlog-alerts-cli-'));
  env = await alertsOnMoto(`alerts-cli-${Date.now()}`);
  server = await startHttpServer(
    (req) => createRouter(alertRoutes({ alerts: env.alerts }), { authenticate: async () => env.admin })(req),
    { host: '127.0.0.1', port: 0, maxBodyBytes: 1024 * 1024 },
  );
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function cli(argv: readonly string[], files: Record<string, Uint8Array> = {}) {
  const io = captureIo(files);
  const code = await runMain(
    [...argv],
    io,
    alertsCommands(() => ({ env: {} })),
  );
  return { code, out: io.out(), err: io.err() };
}

const KEY = issueApiKey('admin-1', (n) => crypto.getRandomValues(new Uint8Array(n))).apiKey;
const api = () => ['--api', server.url, '--key', KEY];

describe('alerts via the API', () => {
  it('list, show, ack, resolve, reopen: each transition recorded, the store updated', async () => {
    const a = await env.fire(1);
    const listed = await cli(['alerts', 'list', '--status', 'open', ...api()]);
    expect(listed.code).toBe(0);
    expect(listed.out.split('\n')[0]).toBe('ID\tSTATUS\tSEVERITY\tLOG\tRULE\tFIRED AT\tREVIEW');
    expect(listed.out).toContain(a.id);
    const shown = await cli(['alerts', 'show', a.id, ...api()]);
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(/# alert\.fire: system log batch \d+, index \d+/);
    expect(shown.out).toContain('"checkpoint"');
    expect((await cli(['alerts', 'ack', a.id, ...api()])).out).toBe(
      `${a.id} is acknowledged; recorded as ${a.id}/r1\n`,
    );
    const resolved = await cli([
      'alerts',
      'resolve',
      a.id,
      '--outcome',
      'true_positive',
      '--notes',
      'INC-7',
      '--json',
      ...api(),
    ]);
    expect(resolved.code).toBe(0);
    expect(JSON.parse(resolved.out)).toMatchObject({
      review: { status: 'resolved', resolved: { outcome: 'true_positive', notes: 'INC-7' } },
    });
    const again = await cli(['alerts', 'resolve', a.id, '--outcome', 'false_positive', ...api()]);
    expect(again.code).toBe(1);
    expect(again.err).toContain('INVALID_TRANSITION');
    expect((await cli(['alerts', 'reopen', a.id, '--notes', 'no', ...api()])).code).toBe(0);
    expect((await env.reviews.get(a.id))?.state).toMatchObject({ status: 'open', rev: 3, reopened: 1 });
    const recs = (await env.records()).filter((r) => r.event.target?.id === a.id).map((r) => r.event.action);
    expect(recs).toEqual(['alert.fire', 'alert.ack', 'alert.resolve', 'alert.reopen']);
  });

  it('refuses bad usage with exit 2 and no request', async () => {
    for (const argv of [
      ['alerts', 'ack', 'not-an-id', ...api()],
      ['alerts', 'resolve', `alr_${'a'.repeat(32)}`, '--outcome', 'maybe', ...api()],
      ['alerts', 'resolve', `alr_${'a'.repeat(32)}`, ...api()],
      ['alerts', 'list', '--status', 'closed', ...api()],
      ['alerts', 'report', '--from', '2026-01-01', '--to', '2026-02-01'],
      ['alerts', 'report', ...api()],
    ]) {
      const r = await cli(argv);
      expect([argv.join(' '), r.code]).toEqual([argv.join(' '), 2]);
      expect(r.err).not.toMatch(STACK);
    }
  });

  it('report from the API: JSON and CSV, to a file', async () => {
    const j = await cli(['alerts', 'report', '--from', '2000-01-01', '--to', '2100-01-01', ...api()]);
    expect(j.code).toBe(0);
    const report = JSON.parse(j.out);
    expect(report.format).toBe('anchorlog.alert-report/v1');
    expect(report.alerts.length).toBeGreaterThanOrEqual(1);
    const out = join(dir, 'report.csv');
    const c = await cli([
      'alerts',
      'report',
      '--from',
      '2000-01-01',
      '--to',
      '2100-01-01',
      '--format',
      'csv',
      '--out',
      out,
      ...api(),
    ]);
    expect(c.code).toBe(0);
    expect(c.err).toMatch(/wrote .*report\.csv: \d+ alert\(s\), \d+ unreviewed/);
    expect(readFileSync(out, 'utf8').split('\r\n')[0]).toBe(ALERT_REPORT_COLUMNS.join(','));
  });
});

describe('alerts report --bundle', () => {
  let log: TestLog;
  let trust: string;
  const files: Record<string, Uint8Array> = {};
  beforeAll(async () => {
    log = makeLog(10, { logId: 'system' });
    const other = makeLog(10, { logId: 'acme' });
    const range = { fromTime: log.receivedAt[2] as string, toTime: log.receivedAt[7] as string };
    files['/mem/system.tar'] = await exportBundle(log, range);
    files['/mem/open-end.tar'] = await exportBundle(log, {
      fromTime: range.fromTime,
      toTime: '2099-01-01T00:00:00.000Z',
    });
    files['/mem/filtered.tar'] = await exportBundle(log, { ...range, filter: { actionPrefix: 'tool.' } });
    files['/mem/acme.tar'] = await exportBundle(other, range);
    files['/mem/garbage.tar'] = new TextEncoder().encode('not a tar');
    trust = join(dir, 'trust.json');
    writeFileSync(
      trust,
      JSON.stringify({
        logKeys: [
          vkeyFromSpki(log.origin, log.signer.publicKeySpki),
          vkeyFromSpki(other.origin, other.signer.publicKeySpki),
        ],
        tsaRoots: TSA_ROOTS_PEM,
      }),
    );
  });

  it('reports from a verified, complete bundle of the system log (its range by default)', async () => {
    const r = await cli(
      ['alerts', 'report', '--bundle', '/mem/system.tar', '--trust', trust, '--format', 'json'],
      files,
    );
    expect([r.code, r.err]).toEqual([0, expect.stringContaining('bundle verified: system log')]);
    expect(JSON.parse(r.out)).toMatchObject({ from: log.receivedAt[2], to: log.receivedAt[7], alerts: [] });
  });

  it.each([
    [['--bundle', '/mem/garbage.tar'], 1, 'ARCHIVE_INVALID'],
    [['--bundle', '/mem/system.tar'], 3, 'UNTRUSTED_BUNDLE'],
    [['--bundle', '/mem/open-end.tar'], 4, 'COMPLETENESS_NOT_PROVED'],
    [['--bundle', '/mem/filtered.tar'], 4, 'COMPLETENESS_NOT_PROVED'],
    [['--bundle', '/mem/acme.tar'], 4, 'NOT_SYSTEM_LOG'],
    [['--bundle', '/mem/system.tar', '--from', '2000-01-01'], 4, 'RANGE_NOT_COVERED'],
  ] as const)('refuses %j with exit %i (%s) and writes no report', async (extra, code, reason) => {
    const withTrust = reason === 'UNTRUSTED_BUNDLE' ? [] : ['--trust', trust];
    const out = join(dir, `refused-${reason}.csv`);
    const r = await cli(['alerts', 'report', ...extra, ...withTrust, '--out', out], files);
    expect(r.code).toBe(code);
    expect(r.err).toContain(reason);
    expect(r.err).not.toMatch(STACK);
    expect(() => readFileSync(out)).toThrow();
  });
});
