/**
 * `anchorlog <args>` in this process, then its peak resident set size on
 * stderr as the last line: `RSS {"exitCode":…,"maxRssKiB":…}`
 * (process.resourceUsage().maxRSS covers the worker threads too). Used by
 * bench:bundle and test/cli/verify-stream.test.ts to measure the verifier's
 * memory as a separate process.
 */
import { nodeIo } from '../src/cli/io.ts';
import { runMain } from '../src/cli/main.ts';

const exitCode = await runMain(process.argv.slice(2), nodeIo());
process.stderr.write(`\nRSS ${JSON.stringify({ exitCode, maxRssKiB: process.resourceUsage().maxRSS })}\n`);
process.exitCode = exitCode;
