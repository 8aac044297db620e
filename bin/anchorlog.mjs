#!/usr/bin/env node
// The `anchorlog` executable: registers tsx so Node can load the TypeScript
// sources directly, then hands argv to the dispatcher in src/cli/main.ts.
import { register } from 'tsx/esm/api';

register();
const { runMain } = await import('../src/cli/main.ts');
const { nodeIo } = await import('../src/cli/io.ts');
process.exitCode = await runMain(process.argv.slice(2), nodeIo());
