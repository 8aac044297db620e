/**
 * `npm start`: runs the local stack until Ctrl-C. Reads its few settings from
 * the environment here, at the entry point, and passes them in.
 *   ANCHORLOG_PORT (default 8787), ANCHORLOG_HOST (default 127.0.0.1)
 * The console (docs/console.md) is served from dist/console/, which the
 * bootstrap (`prestart`) builds when its sources changed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startLocalStack } from './stack.ts';

const root = new URL('../..', import.meta.url).pathname;
const port = Number(process.env.ANCHORLOG_PORT ?? '8787');
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`ANCHORLOG_PORT must be a TCP port, got ${process.env.ANCHORLOG_PORT}\n`);
  process.exit(2);
}

const consoleDir = join(root, 'dist', 'console');
if (!existsSync(join(consoleDir, 'index.html'))) {
  process.stderr.write(
    '[anchorlog] the console is not built: run `npm run build:console` (npm start does)\n',
  );
}

const stack = await startLocalStack({
  consoleDir,
  stateDir: join(root, '.anchorlog'),
  host: process.env.ANCHORLOG_HOST ?? '127.0.0.1',
  port,
  log: (line) => process.stderr.write(`[anchorlog] ${line}\n`),
}).catch((err: unknown) => {
  process.stderr.write(
    `[anchorlog] could not start the local stack: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});

const { info } = stack;
const events = `${info.apiUrl}/v1/logs/${info.logId}/events`;
process.stdout.write(`
anchorlog local stack is up.

  API            ${info.apiUrl}
  console        ${info.consoleUrl}   (verify bundles offline; operator pages with an API key)
  log            ${info.logId}
  demo API key   ${info.apiKey}
  admin API key  ${info.adminKey}   (key-based admin, local only: in AWS humans use IAM with MFA and this key is break-glass, docs/deploy.md "Admin plane")
  AWS emulator   ${info.awsEndpoint}   (table ${info.tableName}, bucket ${info.archiveBucket})
  TSAs           ${info.tsaUrls.join('  ')}
  witnesses      ${info.witnessUrls.join('  ')}   (C2SP tlog-witness; every checkpoint is cosigned by both)
  alert receiver ${info.alertReceiverUrl}   (verifies each alert's signature and prints it below)
  HEC receiver   ${info.hecReceiverUrl}   (a Splunk HEC stand-in: log ${info.logId} streams its sealed records there, docs/streams.md)
  settings       .anchorlog/local-stack.json

Try:
  curl -s -X POST ${events} \\
    -H 'authorization: Bearer ${info.apiKey}' -H 'content-type: application/json' \\
    -d '{"events":[{"actor":{"type":"agent","id":"agent-7"},"action":"tool.call","outcome":"success","occurredAt":"${new Date().toISOString()}","target":{"type":"tool","id":"search"}}]}'
  curl -s ${info.apiUrl}/v1/logs/${info.logId}/checkpoint -H 'authorization: Bearer ${info.apiKey}'
  npm run demo        # a realistic stream of AI-platform events
  ANCHORLOG_API_URL=${info.apiUrl} ANCHORLOG_API_KEY=${info.adminKey} \\
    npx anchorlog alerts list --status open   # review what fired: alerts show|ack|resolve ID

Ctrl-C stops everything.
`);

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  process.stderr.write('[anchorlog] stopping…\n');
  await stack.stop();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
