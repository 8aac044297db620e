/**
 * The auditor's verify page in Chromium (docs/console.md): a good bundle, the
 * tamper cases (the page's exit code and reason code must be the CLI's, both
 * run here on the same files), the no-network rule, progress on a large
 * bundle, and the single-file page opened from disk. Screenshots go to
 * docs/console/.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVerify } from '../../src/cli/verify.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { vkeyFromSpki } from '../../src/core/note/index.ts';
import type { LocalHttpServer } from '../../src/local/http-server.ts';
import { captureIo } from '../cli/support.ts';
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
  text,
} from '../core/bundle/fixture.ts';
import { buildConsole, CONSOLE_DIR, launch, recordRequests, screenshot, serveConsole } from './support.ts';

const FROM = '2025-06-01T00:05:00.000Z';
const TO = '2025-06-01T00:55:00.000Z';

let work: string;
let server: LocalHttpServer;
let browser: Browser;
let log: TestLog;
const file = (name: string) => join(work, name);

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'anchorlog-console-'));
  await buildConsole();
  [server, browser] = await Promise.all([serveConsole(), launch()]);
  log = makeLog(90, {
    action: (i) => ['tool.call', 'access.grant', 'model.invoke', 'config.change'][i % 4] as string,
  });
  const trust = { logKeys: [vkeyFromSpki(log.origin, log.signer.publicKeySpki)], tsaRoots: TSA_ROOTS_PEM };
  writeFileSync(file('TRUST.json'), JSON.stringify(trust, null, 2));
  writeFileSync(file('good.tar'), await exportBundle(log, { fromTime: FROM, toTime: TO }));
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

interface Outcome {
  readonly exitCode: number;
  readonly code: string;
}

/** `anchorlog verify FILE [--trust T] --json`, in-process: its exit code and reason code. */
async function cli(bundle: string, trust?: string): Promise<Outcome> {
  const io = captureIo();
  const exitCode = await runVerify([bundle, ...(trust ? ['--trust', trust] : []), '--json'], io);
  const doc = JSON.parse(io.out()) as { error?: { code: string } };
  return { exitCode, code: doc.error?.code ?? '' };
}

async function openPage(context: BrowserContext, url = `${server.url}/console/`): Promise<Page> {
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForSelector('body[data-ready="1"]');
  return page;
}

/** Chooses the files, verifies, and reads the verdict off the page. */
async function verifyIn(page: Page, bundle: string, trust?: string): Promise<Outcome> {
  await page.setInputFiles('#bundle', bundle);
  await page.setInputFiles('#trust', trust ? [trust] : []);
  await page.click('#verify');
  await page.waitForSelector('body[data-state="done"]', { timeout: 120_000 });
  const box = page.locator('#verdict');
  return {
    exitCode: Number(await box.getAttribute('data-exit-code')),
    code: (await box.getAttribute('data-code')) ?? '',
  };
}

describe('verify page', () => {
  it('verifies a good bundle against TRUST.json: exit 0, claims, anchors, histograms, records, a proof', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await openPage(context);
    await screenshot(page, 'verify-empty');
    expect(await verifyIn(page, file('good.tar'), file('TRUST.json'))).toEqual({ exitCode: 0, code: '' });
    expect(await cli(file('good.tar'), file('TRUST.json'))).toEqual({ exitCode: 0, code: '' });
    await expect(page.locator('#verdict h2').textContent()).resolves.toContain('VERIFIED');
    const claims = (await page.locator('#claims').textContent()) ?? '';
    expect(claims).toContain(log.origin);
    expect(claims).toContain('[2025-06-01T00:05:00.000Z, 2025-06-01T00:55:00.000Z)');
    const anchors = page.locator('#anchors tbody tr');
    await expect(anchors.count()).resolves.toBe(2);
    await expect(page.locator('#anchors').textContent()).resolves.toContain('Bundle Test TSA (ECDSA)');
    // 50 records, one day, four actions.
    await expect(page.locator('#per-day tbody tr').count()).resolves.toBe(1);
    await expect(page.locator('#per-day tbody').textContent()).resolves.toContain('2025-06-01');
    await expect(page.locator('#per-action tbody tr').count()).resolves.toBe(4);
    await expect(page.locator('#record-count').getAttribute('data-total')).resolves.toBe('50');
    await screenshot(page, 'verify-ok');
    // Search narrows the table; a record's proof is derived and re-checked in the page.
    await page.fill('#search', 'access.grant');
    await page.waitForFunction(() => document.getElementById('record-count')?.dataset.total !== '50');
    const total = Number(await page.locator('#record-count').getAttribute('data-total'));
    expect(total).toBeGreaterThan(5);
    expect(total).toBeLessThan(50);
    const rows = await page.locator('#record-rows tr').allTextContents();
    expect(rows.every((r) => r.includes('access.grant'))).toBe(true);
    await page.click('#record-rows button[data-index="13"]');
    await page.waitForSelector('#proof[data-index="13"]');
    const proof = (await page.locator('#proof').textContent()) ?? '';
    expect(proof).toContain('yes: inclusion (and consistency) recomputed');
    expect(proof).toContain('"index": 13');
    await page.locator('#proof').scrollIntoViewIfNeeded();
    await screenshot(page, 'verify-proof');
    await context.close();
  });
});
