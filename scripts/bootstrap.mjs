#!/usr/bin/env node
// Makes a fresh clone ready for `npm start` / `npm test`: installs npm packages
// when node_modules is missing or older than package-lock.json, and makes sure
// the external programs the local stack and tests drive are present:
// moto_server (the AWS emulator), openssl (the RFC 3161 TSA) and Chromium
// (the console's browser tests, docs/console.md); then builds the console.
// Uses only Node built-ins, because it runs before any package is installed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const log = (msg) => process.stderr.write(`[bootstrap] ${msg}\n`);

function has(cmd, args = ['--version']) {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return r.status === 0 || (r.error === undefined && r.status !== 127 && r.status !== null);
}

function npmPackages() {
  const lock = join(root, 'package-lock.json');
  const marker = join(root, 'node_modules', '.package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  log('installing npm packages (npm ci)');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}

function findPython() {
  for (const py of ['python3']) if (has(py)) return py;
  return undefined;
}

// The local stack runs moto through src/local/moto_serialized.py with python3,
// so what matters is that python3 can import moto's server.
function motoImportable() {
  return (
    spawnSync('python3', ['-c', 'import moto.moto_server.threaded_moto_server'], { stdio: 'ignore' })
      .status === 0
  );
}

function moto() {
  if (motoImportable()) return;
  const py = findPython();
  if (!py) {
    throw new Error(
      'moto_server is not installed and no Python was found to install it. ' +
        'Install Python 3 (e.g. `apt-get install python3 python3-pip`) and re-run, ' +
        'or install moto yourself: pip install "moto[server]"',
    );
  }
  log('installing moto[server] with pip');
  const args = ['-m', 'pip', 'install', '--quiet', 'moto[server]>=5.1,<6'];
  let r = spawnSync(py, args, { stdio: 'inherit' });
  if (r.status !== 0) r = spawnSync(py, [...args, '--break-system-packages'], { stdio: 'inherit' });
  if (r.status !== 0 || !motoImportable()) {
    throw new Error('pip could not install moto[server]; install it by hand: pip install "moto[server]"');
  }
}

function openssl() {
  if (has('openssl', ['version'])) return;
  if (process.getuid?.() === 0 && has('apt-get', ['--version'])) {
    log('installing openssl with apt-get');
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    const r = spawnSync('apt-get', ['install', '-y', '-qq', 'openssl'], { stdio: 'inherit' });
    if (r.status === 0) return;
  }
  throw new Error(
    'openssl (3.x) is required for the local RFC 3161 TSA; install it (apt-get install openssl)',
  );
}

// Debian's chromium package: Playwright's own browser downloads are not used
// (playwright-core ships none). test/browser/support.ts looks in the same places.
const CHROMIUM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

function chromium() {
  if (CHROMIUM_PATHS.some((p) => existsSync(p))) return;
  if (process.getuid?.() === 0 && has('apt-get', ['--version'])) {
    log('installing chromium with apt-get (for the console browser tests)');
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    const r = spawnSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit' });
    if (r.status === 0 && CHROMIUM_PATHS.some((p) => existsSync(p))) return;
  }
  throw new Error(
    `Chromium is required for the console's browser tests and was not found at ${CHROMIUM_PATHS.join(', ')}. ` +
      'Install it as root (apt-get install chromium on Debian/Ubuntu) and re-run.',
  );
}

try {
  npmPackages();
  moto();
  openssl();
  chromium();
  // After npm packages: the build uses Vite from node_modules.
  const { buildConsole } = await import('./build-console.mjs');
  await buildConsole({ log });
} catch (err) {
  log(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
