/**
 * The operator pages in Chromium against the real local stack (the same
 * startLocalStack as `npm start`, serving the built console at /console/):
 * the logs' state (with seal lag and a halted log), event search, one event's
 * inclusion proof re-checked in the page, alert acknowledge and resolve, an
 * access review (start, flagged items, decide, refusals by code and reason,
 * CSV report, close), and API errors shown as code and message. The key
 * stays in sessionStorage. Screenshots go to docs/console/.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoSealStateStore } from '../../src/adapters/aws/dynamo-seal-state-store.ts';
import { AuditClient } from '../../src/client/audit-client.ts';
import { demoEvents } from '../../src/local/demo-events.ts';
import { type LocalStack, startLocalStack } from '../../src/local/stack.ts';
import { awsClientConfig, motoEndpoint } from '../support/aws.ts';
import { buildConsole, CONSOLE_DIR, launch, screenshot } from './support.ts';

const EXPORT_RULE = {
  schema: 'anchorlog.rule/v1',
  id: 'local.export',
  version: 1,
  title: 'Large data export',
  severity: 'high',
  owner: 'secops',
  runbook: 'https://runbooks.example/export',
  match: "event.action == 'data.export' && event.metadata.bytes > 1000.0",
  kind: 'match',
};

let stack: LocalStack;
let browser: Browser;
/** A second log whose sealing is halted (as the sealer records a FORK). */
const HALTED_LOG = 'frozen';
const HALT = 'FORK: the archive holds a checkpoint this state does not extend';

/** The API as the test's own client (to set up, and to confirm what the pages did). */
async function call(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${stack.info.apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${stack.info.adminKey}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

beforeAll(async () => {
  await buildConsole();
  [stack, browser] = await Promise.all([
    startLocalStack({
      stateDir: mkdtempSync(join(tmpdir(), 'anchorlog-console-e2e-')),
      port: 0,
      awsEndpoint: motoEndpoint(),
      sealIntervalMs: 0,
      detectionRules: [EXPORT_RULE],
      consoleDir: CONSOLE_DIR,
    }),
    launch(),
  ]);
  const client = new AuditClient({
    apiUrl: stack.info.apiUrl,
    apiKey: stack.info.apiKey,
    logId: stack.info.logId,
  });
  const now = Date.now();
  await Promise.all(demoEvents({ count: 120, startMs: now - 60_000 }).map((e) => client.append(e)));
  for (const bytes of [5_000, 9_000])
    await client.append({
      actor: { type: 'human', id: 'mallory' },
      action: 'data.export',
      outcome: 'success',
      occurredAt: new Date(now - 1000).toISOString(),
      target: { type: 'dataset', id: 'customers' },
      metadata: { bytes },
    });
  await stack.sealNow();
  await stack.anchorNow();
  // One more event after the seal: the log has a seal lag to show.
  await client.append({
    actor: { type: 'human', id: 'alice' },
    action: 'auth.login',
    outcome: 'success',
    occurredAt: new Date().toISOString(),
  });
  await client.close();
  expect((await call('PUT', `/v1/admin/logs/${HALTED_LOG}`, {})).status).toBeLessThan(300);
  await new DynamoSealStateStore({
    client: new DynamoDBClient(awsClientConfig()),
    tableName: stack.info.tableName,
  }).halt(HALTED_LOG, HALT, Date.now());
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function connect(page: Page, key: string): Promise<void> {
  await page.goto(`${stack.info.consoleUrl}operator.html`);
  await page.waitForSelector('body[data-ready="1"]');
  await page.fill('#api-key', key);
  await page.fill('#log-ids', `${stack.info.logId},${HALTED_LOG}`);
  await page.click('#connect-form button[type="submit"]');
  await page.waitForSelector(`#log-rows tr[data-log="${stack.info.logId}"]`);
}

describe('operator pages against the local stack', () => {
  it('is served by the local stack at /console/ with a strict CSP and no inline script', async () => {
    expect(stack.info.consoleUrl).toBe(`${stack.info.apiUrl}/console/`);
    const res = await fetch(`${stack.info.consoleUrl}operator.html`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect((await fetch(`${stack.info.consoleUrl}../../etc/passwd`)).status).toBe(404);
    expect((await fetch(`${stack.info.apiUrl}/console/%2e%2e/package.json`)).status).toBe(404);
  });

  it('shows the logs, searches events, proves one, and reviews alerts; the key stays in sessionStorage', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await connect(page, stack.info.adminKey);
    const row = page.locator(`#log-rows tr[data-log="${stack.info.logId}"]`);
    const size = Number(await row.locator('td[data-size]').getAttribute('data-size'));
    expect(size).toBeGreaterThanOrEqual(122);
    await expect(row.textContent()).resolves.toMatch(/met/);
    // Sealed, with the one event appended after the seal waiting: a lag, sealing running.
    expect(await row.locator('td[data-age]').getAttribute('data-age')).toMatch(/^[0-9]+$/);
    expect(Number(await row.locator('td[data-lag]').getAttribute('data-lag'))).toBeGreaterThanOrEqual(0);
    await expect(row.locator('td[data-lag]').textContent()).resolves.not.toBe('none');
    await expect(row.getAttribute('data-halted')).resolves.toBeNull();
    await expect(row.textContent()).resolves.toContain('running');
    // The halted log: its halt code, the message on hover, size 0, never sealed.
    const halted = page.locator(`#log-rows tr[data-log="${HALTED_LOG}"]`);
    await expect(halted.getAttribute('data-halted')).resolves.toBe('FORK');
    await expect(halted.locator('td.halted').textContent()).resolves.toBe('HALTED: FORK');
    await expect(halted.locator('td.halted').getAttribute('title')).resolves.toBe(HALT);
    await expect(halted.locator('td[data-age]').textContent()).resolves.toBe('never sealed');
    const stored = await page.evaluate(() => ({
      session: sessionStorage.getItem('anchorlog.apiKey'),
      local: localStorage.length,
      cookies: document.cookie,
    }));
    expect(stored).toEqual({ session: stack.info.adminKey, local: 0, cookies: '' });
    // The page's numbers are the API's (GET /v1/logs/{logId}/health).
    const health = (await (await call('GET', `/v1/logs/${HALTED_LOG}/health`)).json()) as {
      halted: { code: string; message: string };
    };
    expect(health.halted).toEqual({ code: 'FORK', message: HALT });
    await screenshot(page, 'operator-logs');

    await page.fill('#q-action', 'data.export');
    await page.fill('#q-actor', 'mallory');
    await page.click('#search-form button[type="submit"]');
    await page.waitForSelector('#event-count[data-shown]');
    await expect(page.locator('#event-count').getAttribute('data-shown')).resolves.toBe('2');
    await page.click('#event-rows button >> nth=0');
    await page.waitForSelector('#event-proof[data-verified]');
    await expect(page.locator('#event-proof').getAttribute('data-verified')).resolves.toBe('1');
    await screenshot(page, 'operator-events');

    await page.click('#alert-form button[type="submit"]');
    await page.waitForSelector('#alerts[data-loaded]');
    const open = page.locator('#alert-rows tr[data-status="open"]');
    // Ours, and any the demo stream's own exports fired.
    expect(await open.count()).toBeGreaterThanOrEqual(2);
    await screenshot(page, 'operator-alerts');
    const first = (await open.first().getAttribute('data-alert')) as string;
    await open.first().locator('button.ack').click();
    await page.selectOption('#a-status', '');
    await page.click('#alert-form button[type="submit"]');
    await page.waitForSelector(`#alert-rows tr[data-alert="${first}"][data-status="acknowledged"]`);
    const acked = page.locator(`#alert-rows tr[data-alert="${first}"]`);
    await acked.locator('select.outcome').selectOption('false_positive');
    await acked.locator('input.notes').fill('test export by the data team');
    await acked.locator('button.resolve').click();
    await page.waitForSelector(`#alert-rows tr[data-alert="${first}"][data-status="resolved"]`);
    // The review went through the API: the server says so too.
    const server = (await (
      await fetch(`${stack.info.apiUrl}/v1/admin/alerts/${encodeURIComponent(first)}`, {
        headers: { authorization: `Bearer ${stack.info.adminKey}` },
      })
    ).json()) as { review: { status: string; resolved: { outcome: string } } };
    expect(server.review.status).toBe('resolved');
    expect(server.review.resolved.outcome).toBe('false_positive');
    await context.close();
  });

  it("shows the API's error code and message", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    // The demo key may read the log but not review alerts.
    await connect(page, stack.info.apiKey);
    await page.click('#alert-form button[type="submit"]');
    await page.waitForSelector('#error[data-code]');
    await expect(page.locator('#error').getAttribute('data-code')).resolves.toBe('FORBIDDEN');
    await expect(page.locator('#error').textContent()).resolves.toContain('alerts:review');
    await screenshot(page, 'operator-error');
    // A wrong key: each log row says why.
    // The page first restores the previous key from sessionStorage and loads with it, so the row
    // may show that load before the new key's answer replaces it: wait for the answer.
    await connect(page, 'not-a-key');
    await page.waitForFunction(
      (log) =>
        /UNAUTHENTICATED/.test(document.querySelector(`#log-rows tr[data-log="${log}"]`)?.textContent ?? ''),
      stack.info.logId,
    );
    await context.close();
  });
  it('runs an access review: flagged items, decisions, refusals by code and reason, the CSV, close', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${stack.info.consoleUrl}access.html`);
    await page.waitForSelector('body[data-ready="1"]');
    await page.fill('#api-key', stack.info.adminKey);
    await page.click('#connect-form button[type="submit"]');
    await page.waitForSelector('#reviews[data-loaded]');
    await page.fill('#start-name', 'console-2026-Q4');
    await page.click('#start-form button[type="submit"]');
    await page.waitForSelector('#review[data-status="open"]');
    const id = (await page.locator('#review').getAttribute('data-review')) as string;
    expect(id).toMatch(/^arv_[0-9a-f]{24}$/);
    await page.waitForSelector(`#review-rows tr[data-review="${id}"]`);

    // Flagged only (the default): every row shown has flags; the admin is flagged `admin`.
    const report = (await (await call('GET', `/v1/admin/access-reviews/${id}/report`)).json()) as {
      items: { principalId: string; flags: string[] }[];
    };
    const flagged = report.items.filter((i) => i.flags.length > 0);
    await expect(page.locator('#item-count').getAttribute('data-shown')).resolves.toBe(
      String(flagged.length),
    );
    for (const flags of await page
      .locator('#item-rows tr')
      .evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.flags ?? '')))
      expect(flags).not.toBe('');
    const admin = report.items.find((i) => i.flags.includes('admin'));
    expect(admin).toBeDefined();
    await page.uncheck('#flagged-only');
    await expect(page.locator('#item-count').getAttribute('data-shown')).resolves.toBe(
      String(report.items.length),
    );
    await screenshot(page, 'access-review');

    // A decision without a reason: refused with the API's code and reason, nothing recorded.
    const adminRow = page.locator(`#item-rows tr[data-principal="${admin?.principalId}"]`);
    await adminRow.locator('select.decision').selectOption('keep');
    await adminRow.locator('button.decide').click();
    await page.waitForSelector('#error[data-code]');
    await expect(page.locator('#error').getAttribute('data-code')).resolves.toBe('BAD_REQUEST');
    await expect(page.locator('#error').getAttribute('data-reason')).resolves.toBe('INVALID_REASON');
    await adminRow.locator('input.reason').fill('break-glass admin, owner confirmed (OPS-12)');
    await adminRow.locator('button.decide').click();
    await page.waitForSelector(
      `#item-rows tr[data-principal="${admin?.principalId}"] td[data-decision="keep"]`,
    );
    await expect(page.locator('#error').isHidden()).resolves.toBe(true);

    // Someone else decides on another principal while this page shows it undecided: 409 ALREADY_DECIDED.
    const other = report.items.find((i) => i.principalId !== admin?.principalId);
    expect(other).toBeDefined();
    const decided = await call('POST', `/v1/admin/access-reviews/${id}/decisions`, {
      principalId: other?.principalId,
      decision: 'change',
      reason: 'narrow to read-only (CHG-9)',
    });
    expect(decided.status).toBe(200);
    const otherRow = page.locator(`#item-rows tr[data-principal="${other?.principalId}"]`);
    await otherRow.locator('input.reason').fill('keep as is');
    await otherRow.locator('button.decide').click();
    await page.waitForSelector('#error[data-reason]');
    await expect(page.locator('#error').getAttribute('data-code')).resolves.toBe('CONFLICT');
    await expect(page.locator('#error').getAttribute('data-reason')).resolves.toBe('ALREADY_DECIDED');
    // The page then shows the decision that won.
    await page.waitForSelector(
      `#item-rows tr[data-principal="${other?.principalId}"] td[data-decision="change"]`,
    );
    await screenshot(page, 'access-review-error');

    // The CSV report, downloaded through the page, is the API's.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-csv')]);
    expect(download.suggestedFilename()).toBe(`access-review-${id}.csv`);
    const csv = readFileSync((await download.path()) as string, 'utf8');
    const fromApi = await (await call('GET', `/v1/admin/access-reviews/${id}/report?format=csv`)).text();
    expect(csv).toBe(fromApi);
    expect(csv).toContain('OPS-12');

    await page.click('#close-review');
    await page.waitForSelector('#review[data-status="closed"]');
    await expect(page.locator('#close-review').isHidden()).resolves.toBe(true);
    await page.waitForSelector(`#review-rows tr[data-review="${id}"][data-status="closed"]`);
    const shown = (await (await call('GET', `/v1/admin/access-reviews/${id}`)).json()) as {
      review: { status: string };
      decisions: { principalId: string; decision: string }[];
    };
    expect(shown.review.status).toBe('closed');
    expect(shown.decisions.map((d) => [d.principalId, d.decision]).sort()).toEqual(
      [
        [admin?.principalId, 'keep'],
        [other?.principalId, 'change'],
      ].sort(),
    );
    await screenshot(page, 'access-reviews');

    // A key without access:review: the list is refused, shown as FORBIDDEN.
    await page.fill('#api-key', stack.info.apiKey);
    await page.click('#connect-form button[type="submit"]');
    await page.waitForSelector('#error[data-code="FORBIDDEN"]');
    await context.close();
  });
});
