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

//
// `verify` reads hostile input and must stay within the memory bound
// docs/bundle.md §Memory states: it runs with V8's heap capped
// (--max-old-space-size), so garbage is collected before the heap outgrows
// the bound instead of when V8's default limit (a share of the machine's
// memory) is near. If the flag is not already set, the shim re-runs itself
// once with it.
const RUNTIME_MAJOR = 24;
const VERIFY_HEAP_MIB = 192;
const projectNode = fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url));
const major = Number(process.versions.node.split('.')[0]);
const wrongNode = major !== RUNTIME_MAJOR && existsSync(projectNode) && !process.env.ANCHORLOG_NODE_REEXEC;
const isVerify = process.argv[2] === 'verify';
const heapCapped = process.execArgv.some((a) => a.startsWith('--max-old-space-size'));
if (wrongNode || (isVerify && !heapCapped)) {
  const flags = isVerify ? [`--max-old-space-size=${VERIFY_HEAP_MIB}`] : [];
  const node = wrongNode ? projectNode : process.execPath;
  const r = spawnSync(node, [...flags, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, ANCHORLOG_NODE_REEXEC: '1' },
  });
  if (r.error) {
    process.stderr.write(`anchorlog: could not start ${node}: ${r.error.message}\n`);
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
// Diagnostics: ANCHORLOG_REPORT_RSS=1 prints this process's peak resident set size (worker threads
// included) as the last line of stderr, to check the bound of docs/bundle.md §Memory.
if (process.env.ANCHORLOG_REPORT_RSS)
  process.stderr.write(
    `\nRSS ${JSON.stringify({ exitCode: process.exitCode, maxRssKiB: process.resourceUsage().maxRSS })}\n`,
  );
