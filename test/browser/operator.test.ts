/**
 * The operator pages in Chromium against the real local stack (the same
 * startLocalStack as `npm start`, serving the built console at /console/):
 * the logs' state, event search, one event's inclusion proof re-checked in the
 * page, alert acknowledge and resolve, and API errors shown as code and
 * message. The key stays in sessionStorage. Screenshots go to docs/console/.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditClient } from '../../src/client/audit-client.ts';
import { demoEvents } from '../../src/local/demo-events.ts';
import { type LocalStack, startLocalStack } from '../../src/local/stack.ts';
import { motoEndpoint } from '../support/aws.ts';
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
  await client.close();
  await stack.sealNow();
  await stack.anchorNow();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function connect(page: Page, key: string): Promise<void> {
  await page.goto(`${stack.info.consoleUrl}operator.html`);
  await page.waitForSelector('body[data-ready="1"]');
  await page.fill('#api-key', key);
  await page.fill('#log-ids', stack.info.logId);
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
    const stored = await page.evaluate(() => ({
      session: sessionStorage.getItem('anchorlog.apiKey'),
      local: localStorage.length,
      cookies: document.cookie,
    }));
    expect(stored).toEqual({ session: stack.info.adminKey, local: 0, cookies: '' });
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
});
