/**
 * What the benchmarks record about the machine they ran on: `nproc`, the CPU
 * model (lscpu), memory, Node, moto, and the load average at a moment (the
 * machine is shared, so every run notes how busy it was).
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

export interface Machine {
  nproc: number;
  cpu: string;
  memGiB: number;
  node: string;
  moto: string;
}

function tryExec(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

export function machine(): Machine {
  const lscpu = tryExec('lscpu', []);
  const model = lscpu?.match(/^Model name:\s*(.+)$/m)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  return {
    nproc: availableParallelism(),
    cpu: model,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    moto: tryExec('python3', ['-c', 'import moto; print(moto.__version__)']) ?? 'unknown',
  };
}

/** 1-, 5- and 15-minute load averages, rounded to 2 decimals. */
export const load = (): number[] => loadavg().map((x) => Math.round(x * 100) / 100);
