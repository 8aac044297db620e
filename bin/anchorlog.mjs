#!/usr/bin/env node
// The `anchorlog` executable: registers tsx so Node can load the TypeScript
// sources directly, then hands argv to the dispatcher in src/cli/main.ts.
//
// The project runs on the Node major the Lambdas use (24), which `npm ci`
// installs into node_modules/.bin (the `node` package). `npm run` finds that
// binary first; a shim started directly from a shell may get an older system
// Node, so it re-runs itself once under the project's own binary.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const RUNTIME_MAJOR = 24;
const projectNode = fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url));
const major = Number(process.versions.node.split('.')[0]);
if (major !== RUNTIME_MAJOR && existsSync(projectNode) && !process.env.ANCHORLOG_NODE_REEXEC) {
  const r = spawnSync(projectNode, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, ANCHORLOG_NODE_REEXEC: '1' },
  });
  if (r.error) {
    process.stderr.write(`anchorlog: could not start ${projectNode}: ${r.error.message}\n`);
    process.exit(2);
  }
  if (r.signal) process.kill(process.pid, r.signal);
  process.exit(r.status ?? 1);
}

const { register } = await import('tsx/esm/api');
register();
const { runMain } = await import('../src/cli/main.ts');
const { nodeIo } = await import('../src/cli/io.ts');
process.exitCode = await runMain(process.argv.slice(2), nodeIo());
