/**
 * Review evidence end to end on the local stack, as an auditor would check
 * it (docs/detection.md "How an auditor produces and checks it"): events fire
 * a rule → detection and delivery record the alerts in the `system` log →
 * `anchorlog alerts ack|resolve` reviews some → seal and anchor → `anchorlog
 * export --log system` of the period → `anchorlog alerts report --bundle`
 * (offline, verified against TRUST.json) equals `anchorlog alerts report`
 * from the API, in JSON and in CSV, and says what happened to each alert.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditClient } from '../../src/client/audit-client.ts';
import type { AlertReport } from '../../src/core/detect/report.ts';
import { parseApiKey } from '../../src/core/principal.ts';
import type { LocalStack } from '../../src/local/stack.ts';
import { cli, startTestStack } from './helpers.ts';

const EXPORT_RULE = {
  schema: 'anchorlog.rule/v1',
  id: 'local.export',
  version: 1,
  title: 'Data export',
  severity: 'high',
  owner: 'secops',
  runbook: 'https://runbooks.example/export',
  match: "event.action == 'data.export' && event.metadata.bytes > 1000.0",
  kind: 'match',
};

let stack: LocalStack;
const dir = mkdtempSync(join(tmpdir(), 'anchorlog-alerts-e2e-'));

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, get: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await pause(100);
  }
}

beforeAll(async () => {
  stack = await startTestStack({ detectionRules: [EXPORT_RULE] });
});
afterAll(async () => {
  await stack?.stop();
});

describe('alert review evidence, end to end', () => {
  it('the report from a verified system-log bundle equals the report from the API', async () => {
    const admin = () => ['--api', stack.info.apiUrl, '--key', stack.info.adminKey];
    const reviewer = parseApiKey(stack.info.adminKey).principalId;
    const from = new Date(Date.now() - 1000).toISOString();

    // 1. Three exports fire the rule; detection and delivery record three alerts.
    const client = new AuditClient({
      apiUrl: stack.info.apiUrl,
      apiKey: stack.info.apiKey,
      logId: stack.info.logId,
    });
    const receipts: { index: number }[] = [];
    for (let i = 0; i < 3; i++)
      receipts.push(
        await client.append({
          occurredAt: new Date().toISOString(),
          actor: { type: 'agent', id: `agent-${i}` },
          action: 'data.export',
          target: { type: 'dataset', id: 'customers' },
          outcome: 'success',
          metadata: { bytes: 5_000_000 + i },
        }),
      );
    await client.close();
    const ids = await until('three alerts', async () => {
      await stack.sealNow();
      const got = receipts.map(
        (r) =>
          stack.alerts.received.find(
            (x) =>
              x.alert.rule.id === 'local.export' &&
              x.alert.logId === stack.info.logId &&
              x.alert.trigger?.index === r.index,
          )?.alert.id,
      );
      return got.every((x) => x !== undefined) ? (got as string[]) : undefined;
    });
    const [a, b, c] = ids as [string, string, string];

    // 2. Review two of them through the CLI; delivery opened them for review.
    const listed = await cli(
      'alerts',
      'list',
      '--rule',
      'local.export',
      '--status',
      'open',
      '--json',
      ...admin(),
    );
    expect(listed.code, listed.err).toBe(0);
    expect((JSON.parse(listed.out).alerts as { alert: { id: string } }[]).map((v) => v.alert.id)).toEqual(
      expect.arrayContaining(ids),
    );
    for (const argv of [
      ['alerts', 'ack', a],
      ['alerts', 'resolve', a, '--outcome', 'true_positive', '--notes', 'INC-1: key rotated'],
      ['alerts', 'resolve', b, '--outcome', 'false_positive', '--notes', 'nightly job'],
    ]) {
      const r = await cli(...argv, ...admin());
      expect(r.code, r.err).toBe(0);
    }
    const shown = await cli('alerts', 'show', a, ...admin());
    expect(shown.out).toMatch(/# alert\.fire: system log batch \d+, index \d+/);
    expect(shown.out).toContain(`"note": "anchorlog.local/${stack.info.logId}\\n`);

    // 3. The period ends now; a later review (c) and a seal close it, the anchors date it.
    await pause(5);
    const to = new Date().toISOString();
    await pause(5);
    expect((await cli('alerts', 'ack', c, ...admin())).code).toBe(0);
    await stack.sealNow();
    await stack.anchorNow();

    // 4. The auditor: export, pin trust, report from the bundle.
    const bundle = join(dir, 'system.tar');
    const exp = await cli('export', '--log', 'system', '--from', from, '--to', to, '-o', bundle, ...admin());
    expect(exp.code, exp.err).toBe(0);
    const trust = join(dir, 'trust.json');
    expect((await cli('trust', '--log', 'system', '-o', trust, ...admin())).code).toBe(0);
    const verified = await cli('verify', bundle, '--trust', trust);
    expect(verified.code, verified.out).toBe(0);
    const offline = await cli(
      'alerts',
      'report',
      '--bundle',
      bundle,
      '--trust',
      trust,
      '--from',
      from,
      '--to',
      to,
    );
    expect(offline.code, offline.err).toBe(0);
    const online = await cli('alerts', 'report', '--from', from, '--to', to, '--until', to, ...admin());
    expect(online.code, online.err).toBe(0);
    const fromBundle = JSON.parse(offline.out) as AlertReport;
    expect(JSON.parse(online.out)).toEqual(fromBundle);

    // 5. What it says.
    const row = (id: string) => fromBundle.alerts.find((r) => r.alertId === id);
    expect(row(a)).toMatchObject({
      status: 'resolved',
      acknowledgedBy: reviewer,
      resolvedBy: reviewer,
      outcome: 'true_positive',
      notes: 'INC-1: key rotated',
      unreviewed: false,
    });
    expect(row(a)?.timeToAcknowledgeMs).toBeGreaterThanOrEqual(0);
    expect(row(a)?.timeToResolveMs).toBeGreaterThanOrEqual(row(a)?.timeToAcknowledgeMs ?? 0);
    expect(row(b)).toMatchObject({
      status: 'resolved',
      outcome: 'false_positive',
      acknowledgedBy: null,
      unreviewed: false,
    });
    // c was acknowledged after the period's records: as of the bundle, nobody had looked at it.
    expect(row(c)).toMatchObject({ status: 'open', acknowledgedAt: null, unreviewed: true });
    expect(fromBundle.problems).toEqual([]);

    // CSV too, byte for byte.
    const csvBundle = join(dir, 'offline.csv');
    const csvApi = join(dir, 'online.csv');
    expect(
      (
        await cli(
          'alerts',
          'report',
          '--bundle',
          bundle,
          '--trust',
          trust,
          '--from',
          from,
          '--to',
          to,
          '--format',
          'csv',
          '--out',
          csvBundle,
        )
      ).code,
    ).toBe(0);
    expect(
      (
        await cli(
          'alerts',
          'report',
          '--from',
          from,
          '--to',
          to,
          '--until',
          to,
          '--format',
          'csv',
          '--out',
          csvApi,
          ...admin(),
        )
      ).code,
    ).toBe(0);
    expect(readFileSync(csvBundle, 'utf8')).toBe(readFileSync(csvApi, 'utf8'));
    expect(readFileSync(csvBundle, 'utf8')).toContain(`${c},`);
  });
});
