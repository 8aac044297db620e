/**
 * A private moto_server for one test file: start on a free 127.0.0.1 port,
 * wait until GET /moto-api/ answers, kill the process group in stop().
 * Stand-in until the shared emulator harness replaces it; keep the interface
 * (endpoint, stop) small so the swap is a one-line change in each test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

export interface MotoLocal {
  /** e.g. http://127.0.0.1:41234 — the AWS SDK `endpoint`. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Region and dummy credentials every client against moto uses. */
export const MOTO_CLIENT_CONFIG = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
} as const;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startMotoLocal(readyTimeoutMs = 60_000): Promise<MotoLocal> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    detached: true, // own process group, so stop() also ends any worker it forks
    stdio: 'ignore',
  });
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `moto_server exited early (code ${code}, signal ${signal})`;
  });
  child.once('error', (err) => {
    exited = `moto_server failed to start: ${err.message}`;
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      return; // already gone
    }
    await Promise.race([gone, new Promise((r) => setTimeout(r, 5_000))]);
  };
  const deadline = performance.now() + readyTimeoutMs;
  for (;;) {
    if (exited) throw new Error(exited);
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      await res.arrayBuffer();
      if (res.ok) return { endpoint, stop };
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) {
      await stop();
      throw new Error(`moto_server did not answer on ${endpoint} within ${readyTimeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
