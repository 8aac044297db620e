/**
 * The verify page with a class answer (docs/classes.md, docs/console.md): the
 * same core verifier and verdict as `anchorlog verify ANSWER.json`, run in the
 * page's Web Worker — "complete for class access.* over [from, to)" for a
 * good answer, the CLI's exit and code for one an exporter cut a record from.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClassAnswerService } from '../../src/app/class-answer.ts';
import { runVerify } from '../../src/cli/verify.ts';
import { fromUtf8 } from '../../src/core/bytes.ts';
import type { LocalHttpServer } from '../../src/local/http-server.ts';
import { appendAt, memoryExportEnv, sealAndAnchor } from '../app/export-harness.ts';
import { captureIo } from '../cli/support.ts';
import { buildConsole, launch, screenshot, serveConsole } from './support.ts';

const LOG = 'sample';
const FROM = '2026-03-01T00:00:00.000Z';
const TO = '2026-05-01T00:00:00.000Z';
let work: string;
let server: LocalHttpServer;
let browser: Browser;
const file = (name: string) => join(work, name);

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'anchorlog-console-class-'));
  await buildConsole();
  [server, browser] = await Promise.all([serveConsole(), launch()]);
  const env = await memoryExportEnv(undefined, {
    classes: [{ name: 'access', version: 1, action: 'access.*' }],
  });
  await env.logRegistry.createLog(LOG);
  let k = 0;
  for (const m of ['2026-02-15', '2026-03-15', '2026-04-15', '2026-05-15']) {
    for (let d = 0; d < 2; d++)
      await appendAt(
        env,
        LOG,
        `${m}T0${d}:00:00.000Z`,
        ['tool.call', 'access.grant', 'config.set', 'access.revoke'].map((action) => ({
          action,
          actor: `u${k++ % 3}`,
          target: `r${k}`,
        })),
      );
    await sealAndAnchor(env, LOG);
  }
  const answer = await new ClassAnswerService({ archive: env.archive, anchors: env.anchors }).answer(
    LOG,
    'access',
    FROM,
    TO,
  );
  writeFileSync(file('access.json'), answer);
  const doc = JSON.parse(fromUtf8(answer)) as { entries: unknown[] };
  doc.entries.splice(2, 1);
  writeFileSync(file('access-cut.json'), JSON.stringify(doc));
  writeFileSync(file('TRUST.json'), JSON.stringify({ logKeys: [env.vkey(LOG)], tsaRoots: env.tsaRootsPem }));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Outcome {
  readonly exitCode: number;
  readonly code: string;
}

async function cli(answer: string): Promise<Outcome> {
  const io = captureIo();
  const exitCode = await runVerify([answer, '--trust', file('TRUST.json'), '--json'], io);
  const doc = JSON.parse(io.out()) as { error?: { code: string } };
  return { exitCode, code: doc.error?.code ?? '' };
}

async function verifyIn(page: Page, answer: string): Promise<Outcome> {
  await page.setInputFiles('#bundle', answer);
  await page.setInputFiles('#trust', file('TRUST.json'));
  await page.evaluate(() => {
    delete document.body.dataset.state;
  });
  await page.click('#verify');
  await page.waitForSelector('body[data-state="done"]', { timeout: 120_000 });
  const box = page.locator('#verdict');
  return {
    exitCode: Number(await box.getAttribute('data-exit-code')),
    code: (await box.getAttribute('data-code')) ?? '',
  };
}

describe('verify page with a class answer', () => {
  it('a good answer is complete for the class over the range; a cut one fails with the CLI’s code', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${server.url}/console/`);
    await page.waitForSelector('body[data-ready="1"]');

    expect(await verifyIn(page, file('access.json'))).toEqual({ exitCode: 0, code: '' });
    expect(await cli(file('access.json'))).toEqual({ exitCode: 0, code: '' });
    const box = page.locator('#verdict');
    await expect(box.getAttribute('data-statement')).resolves.toBe(
      `complete for class access.* over [${FROM}, ${TO})`,
    );
    await expect(box.locator('h2').textContent()).resolves.toContain('Class answer: VERIFIED');
    await expect(box.getAttribute('data-records')).resolves.toBe('8');
    const claims = (await page.locator('#claims').textContent()) ?? '';
    expect(claims).toContain('access v1 = access.*, declared at tree size 0');
    await screenshot(page, 'verify-class-ok');

    const cut = await verifyIn(page, file('access-cut.json'));
    expect(cut).toEqual(await cli(file('access-cut.json')));
    expect(cut.exitCode).toBe(1);
    expect(['CLASS_OMISSION', 'CLASS_PROOF_INVALID']).toContain(cut.code);
    await expect(box.locator('h2').textContent()).resolves.toContain('FAILED');
    await context.close();
  });
});
