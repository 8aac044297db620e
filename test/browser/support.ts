/**
 * Drives the console (docs/console.md) in a real browser: Debian's Chromium
 * (/usr/bin/chromium, installed by scripts/bootstrap.mjs) through
 * playwright-core, whose own browser downloads are not used. The console is
 * built with the same script as `npm start` (scripts/build-console.mjs) and
 * served by the local stack's static handler with its security headers.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page, type Request } from 'playwright-core';
import { AppError } from '../../src/app/errors.ts';
import { errorResponse } from '../../src/http/errors.ts';
import { type LocalHttpServer, startHttpServer } from '../../src/local/http-server.ts';

export const ROOT = new URL('../..', import.meta.url).pathname;
export const CONSOLE_DIR = join(ROOT, 'dist', 'console');
/**
 * Every run takes the screenshots (a page that cannot render fails here), but
 * only `ANCHORLOG_WRITE_SCREENSHOTS=1` writes them over the ones docs/console.md
 * shows — as the IAM tables are regenerated — so `npm test` leaves the tree clean.
 */
export const SCREENSHOTS =
  process.env.ANCHORLOG_WRITE_SCREENSHOTS === '1'
    ? join(ROOT, 'docs', 'console')
    : join(tmpdir(), 'anchorlog-console-screenshots');

/** Where the bootstrap puts Chromium (Debian's package), or where a developer has one. */
export const CHROMIUM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export function chromiumPath(): string {
  const found = CHROMIUM_PATHS.find((p) => existsSync(p));
  if (!found)
    throw new Error(
      `no Chromium at ${CHROMIUM_PATHS.join(', ')}: run \`npm run bootstrap\` (as root it installs Debian's chromium)`,
    );
  return found;
}

export async function buildConsole(): Promise<void> {
  const mod = (await import(join(ROOT, 'scripts', 'build-console.mjs'))) as {
    buildConsole: (o?: { force?: boolean }) => Promise<boolean>;
  };
  await mod.buildConsole();
}

export function launch(): Promise<Browser> {
  // Root in a container: Chromium's sandbox needs user namespaces it may not have.
  return chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
}

/** The console alone (no API): static files under /console/, 404 for anything else. */
export function serveConsole(): Promise<LocalHttpServer> {
  return startHttpServer(
    async (req) => errorResponse(new AppError('NOT_FOUND', `no route ${req.path}`), req.requestId),
    {
      port: 0,
      maxBodyBytes: 1024,
      static: { prefix: '/console/', dir: CONSOLE_DIR },
    },
  );
}

/** Every request the context makes (pages and workers), from the moment this is called. */
export function recordRequests(context: BrowserContext): Request[] {
  const seen: Request[] = [];
  context.on('request', (r) => seen.push(r));
  return seen;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
