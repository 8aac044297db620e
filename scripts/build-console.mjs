#!/usr/bin/env node
// Builds the console (docs/console.md) into dist/console/ with Vite when its
// sources are newer than the last build: the served pages, then the
// single-file verify page (anchorlog-verify.html). Run by the bootstrap (so
// `npm start` and `npm test` always serve a current build) and by the browser
// tests; `--force` rebuilds regardless.
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'console');
const stamp = join(out, '.built');
// What the console bundles: its own sources, the core and the CLI's browser-safe verdict modules.
const SOURCES = ['console', 'src/core', 'src/cli', 'package-lock.json'];

function newest(path) {
  const s = statSync(path, { throwIfNoEntry: false });
  if (!s) return 0;
  if (!s.isDirectory()) return s.mtimeMs;
  let max = s.mtimeMs;
  for (const name of readdirSync(path)) max = Math.max(max, newest(join(path, name)));
  return max;
}

/** Builds when stale (or forced); resolves to true when it built. */
export async function buildConsole({ force = false, log = () => {} } = {}) {
  const built = statSync(stamp, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const sources = Math.max(...SOURCES.map((p) => newest(join(root, p))));
  if (!force && built > sources) return false;
  log('building the console (dist/console/)');
  const { build } = await import('vite');
  const configFile = join(root, 'console', 'vite.config.ts');
  await build({ configFile, mode: 'production' });
  await build({ configFile, mode: 'singlefile' });
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildConsole({
    force: process.argv.includes('--force'),
    log: (m) => process.stderr.write(`[console] ${m}\n`),
  });
}
