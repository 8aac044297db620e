/**
 * Runs moto (the AWS emulator) as a child process on 127.0.0.1 for the local
 * stack and the tests, through moto_serialized.py: moto's own server with
 * requests handled one at a time, because threaded moto lets two racing
 * conditional writes both succeed (see that file). The process is started in its own process group
 * and stopped with the group, so no emulator outlives its owner; an `exit`
 * hook kills it even when the owner dies without calling stop().
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from './ports.ts';

export interface MotoServer {
  /** e.g. http://127.0.0.1:41234 — use as the AWS SDK `endpoint`. */
  readonly endpoint: string;
  readonly pid: number;
  /** Drops every resource in the emulator (POST /moto-api/reset). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartMotoOptions {
  port?: number;
  /** Milliseconds to wait for the server to answer. */
  readyTimeoutMs?: number;
  /** Where the server's own log goes; default: discarded. */
  logTo?: 'inherit' | 'ignore';
}

export async function startMoto(opts: StartMotoOptions = {}): Promise<MotoServer> {
  const port = opts.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  let child: ChildProcess;
  try {
    const script = new URL('./moto_serialized.py', import.meta.url).pathname;
    child = spawn('python3', [script, '127.0.0.1', String(port)], {
      detached: true,
      stdio: ['ignore', opts.logTo ?? 'ignore', opts.logTo ?? 'ignore'],
    });
  } catch (err) {
    throw new Error(`could not start moto (run \`npm run bootstrap\` to install it): ${String(err)}`);
  }
  const pid = child.pid;
  if (pid === undefined)
    throw new Error('moto_server did not start: is it installed? run `npm run bootstrap`');
  const killGroup = () => {
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  process.once('exit', killGroup);
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `moto_server exited (code ${code}, signal ${signal})`;
  });
  child.once('error', (err) => {
    exited = `moto_server failed to start: ${err.message} (run \`npm run bootstrap\` to install it)`;
  });

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (exited) throw new Error(exited);
    try {
      const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      killGroup();
      throw new Error(`moto_server on ${endpoint} did not answer within ${opts.readyTimeoutMs ?? 30_000} ms`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    endpoint,
    pid,
    async reset() {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
    },
    async stop() {
      process.removeListener('exit', killGroup);
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      killGroup();
      const timer = setTimeout(() => {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // gone
        }
      }, 3000);
      await gone;
      clearTimeout(timer);
    },
  };
}
