/**
 * In-browser verifier benchmark (npm run bench:console [sizes…], default
 * 100000): the console's verify page (docs/console.md) against the CLI's
 * verifier on the same bundle file, in the same run.
 *
 * For each N: a range bundle of N records is built in-process with the bundle
 * tests' fixture (core records and tree, a LocalNoteSigner checkpoint, two
 * in-process RFC 3161 TSAs) and written to a temp file. Then:
 *   - CLI: verifyBundle streaming from the file, records chunks checked by the
 *     CLI's worker pool (as `anchorlog verify` runs), and with no pool (one thread);
 *   - browser: the built console in Debian's Chromium (playwright-core), the
 *     file chosen in the page; the time is the worker's own clock around
 *     verifyBundle (the data-millis the page records), so page load and the
 *     table's second pass are not counted.
 * Each is run `--runs` times (default 3); the best is kept. The machine is
 * shared: the load average is recorded before and after.
 * Writes console.json in bench/results/.
 */
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocateShared, startChunkPool } from '../src/cli/verify-workers.ts';
import { type BundleTrust, verifyBundle } from '../src/core/bundle/index.ts';
import { vkeyFromSpki } from '../src/core/note/index.ts';
import { buildConsole, launch, serveConsole } from '../test/browser/support.ts';
import { exportBundle, makeLog, TSA_ROOTS, TSA_ROOTS_PEM } from '../test/core/bundle/fixture.ts';
import { load, machine } from './machine.ts';

const MiB = 1024 * 1024;
const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 3;
const sizes = args.filter((a, i) => /^\d+$/.test(a) && args[i - 1] !== '--runs').map(Number);
if (sizes.length === 0) sizes.push(100_000);

const best = (xs: number[]) => Math.min(...xs);
const perSecond = (n: number, ms: number) => Math.round(n / (ms / 1000));

async function cliMillis(file: string, trust: BundleTrust, pooled: boolean): Promise<number> {
  const pool = pooled ? startChunkPool() : undefined;
  await pool?.warm();
  const t0 = performance.now();
  await verifyBundle(
    createReadStream(file, { highWaterMark: MiB }) as AsyncIterable<Uint8Array>,
    trust,
    pool ? { checkChunk: pool.check, maxChunksInFlight: pool.threads + 1, allocate: allocateShared } : {},
  );
  const ms = performance.now() - t0;
  await pool?.close();
  return ms;
}

const loadBefore = load();
const work = mkdtempSync(join(tmpdir(), 'anchorlog-bench-console-'));
await buildConsole();
const [server, browser] = await Promise.all([serveConsole(), launch()]);
const results: Record<string, unknown>[] = [];
try {
  for (const n of sizes) {
    const log = makeLog(n + 2, { stepMs: 1000 });
    const file = join(work, `bundle-${n}.tar`);
    const bytes = await exportBundle(log, {
      fromTime: log.receivedAt[1] as string,
      toTime: log.receivedAt[n + 1] as string,
    });
    writeFileSync(file, bytes);
    const vkey = vkeyFromSpki(log.origin, log.signer.publicKeySpki);
    const trustFile = join(work, `trust-${n}.json`);
    writeFileSync(trustFile, JSON.stringify({ logKeys: [vkey], tsaRoots: TSA_ROOTS_PEM }));
    const trust: BundleTrust = { logKeys: [vkey], tsaRoots: TSA_ROOTS };

    const pooled: number[] = [];
    const single: number[] = [];
    const inBrowser: number[] = [];
    /** SHA-256 in the page's verify worker: 'wasm' unless WebAssembly was refused (console/src/hash-browser.ts). */
    const hashes = new Set<string>();
    for (let r = 0; r < runs; r++) {
      pooled.push(await cliMillis(file, trust, true));
      single.push(await cliMillis(file, trust, false));
      const page = await browser.newPage();
      await page.goto(`${server.url}/console/`);
      await page.waitForSelector('body[data-ready="1"]');
      await page.setInputFiles('#bundle', file);
      await page.setInputFiles('#trust', trustFile);
      await page.click('#verify');
      await page.waitForSelector('body[data-state="done"]', { timeout: 600_000 });
      const exit = await page.locator('#verdict').getAttribute('data-exit-code');
      if (exit !== '0') throw new Error(`the page did not verify the bundle: exit ${exit}`);
      hashes.add((await page.locator('#verdict').getAttribute('data-hash')) ?? '?');
      inBrowser.push(Number(await page.locator('#verdict').getAttribute('data-millis')));
      await page.close();
    }
    const cli = perSecond(n, best(pooled));
    const browserRate = perSecond(n, best(inBrowser));
    results.push({
      n,
      bundleMiB: Math.round((bytes.length / MiB) * 10) / 10,
      cliPoolRecordsPerSecond: cli,
      cliOneThreadRecordsPerSecond: perSecond(n, best(single)),
      browserRecordsPerSecond: browserRate,
      browserVsCli: Math.round((browserRate / cli) * 100) / 100,
      browserHash: [...hashes].join(','),
      runs,
      millis: { cliPool: pooled, cliOneThread: single, browser: inBrowser },
    });
  }
} finally {
  await browser.close();
  await server.close();
  rmSync(work, { recursive: true, force: true });
}

const doc = {
  benchmark: 'console',
  date: new Date().toISOString(),
  machine: machine(),
  chromium: browser.version(),
  loadAverage: { before: loadBefore, after: load() },
  method:
    'same bundle file: CLI verifyBundle streamed from the file (worker pool, and one thread) vs the console verify page in Chromium (worker clock around verifyBundle); best of runs',
  results,
};
writeFileSync(new URL('./results/console.json', import.meta.url), `${JSON.stringify(doc, null, 2)}\n`);
console.table(
  results.map((r) => ({
    N: r.n,
    'bundle MiB': r.bundleMiB,
    'CLI pool rec/s': r.cliPoolRecordsPerSecond,
    'CLI 1 thread rec/s': r.cliOneThreadRecordsPerSecond,
    'browser rec/s': r.browserRecordsPerSecond,
    'browser / CLI': r.browserVsCli,
    'page SHA-256': r.browserHash,
  })),
);
