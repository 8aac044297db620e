/**
 * The CLI's HTTP client survives a server that ends the connection while the
 * response body is not yet read (src/cli/http-client.ts; nodejs/undici#5360).
 * With Node 24's bundled fetch this exact exchange kills the process with an
 * uncatchable AssertionError, so the client runs in a child process.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { skipChildProcesses } from '../support/tier.ts';

const TSX = new URL('../../node_modules/.bin/tsx', import.meta.url).pathname;
const CLIENT = new URL('../../src/cli/http-client.ts', import.meta.url).pathname;

// A 64 KiB body sent whole with `Connection: close` and FIN, read 300 ms later.
const SCRIPT = `
import { createServer } from 'node:net';
import { cliFetch } from ${JSON.stringify(CLIENT)};
const BODY = Buffer.alloc(64 * 1024, 0x61);
const server = createServer((sock) => {
  sock.once('data', () => {
    sock.write('HTTP/1.1 200 OK\\r\\nContent-Length: ' + BODY.length + '\\r\\nConnection: close\\r\\n\\r\\n');
    sock.write(BODY);
    sock.end();
  });
});
server.listen(0, '127.0.0.1', async () => {
  const res = await cliFetch('http://127.0.0.1:' + server.address().port + '/');
  await new Promise((r) => setTimeout(r, 300));
  let n = 0;
  for await (const chunk of res.body) n += chunk.length;
  console.log('read ' + n);
  server.close();
});
`;

it.skipIf(skipChildProcesses)(
  'reads a whole body that arrived before the reader, from a server that closed the connection',
  () => {
    const file = join(mkdtempSync(join(tmpdir(), 'anchorlog-http-')), 'client.mts');
    writeFileSync(file, SCRIPT);
    const r = spawnSync(TSX, [file], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).not.toMatch(/AssertionError/);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(`read ${64 * 1024}`);
  },
);
