import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMain } from '../../src/cli/main.ts';
import type { IngestSettings } from '../../src/config.ts';
import { type LocalStack, startLocalStack } from '../../src/local/stack.ts';
import type { LogStore } from '../../src/ports/log-store.ts';
import { motoEndpoint } from '../support/aws.ts';

/** The real local stack (HTTP server, services, sealer) on the worker's emulator and a free port. */
export function startTestStack(
  opts: {
    sealIntervalMs?: number;
    detectionRules?: readonly unknown[];
    alertDestinations?: string;
    ingest?: IngestSettings;
  } = {},
): Promise<LocalStack> {
  return startLocalStack({
    stateDir: mkdtempSync(join(tmpdir(), 'anchorlog-e2e-')),
    port: 0,
    awsEndpoint: motoEndpoint(),
    sealIntervalMs: opts.sealIntervalMs ?? 0,
    ...(opts.detectionRules ? { detectionRules: opts.detectionRules } : {}),
    ...(opts.alertDestinations ? { alertDestinations: opts.alertDestinations } : {}),
    ...(opts.ingest ? { ingest: opts.ingest } : {}),
  });
}

/** Every stored record of a log, in index order, read back from DynamoDB. */
export async function readWholeLog(store: LogStore, logId: string) {
  const out: { index: number; bytes: Uint8Array; seq: number }[] = [];
  for (let seq = 1; ; ) {
    const batches = await store.readBatches(logId, seq, 100);
    if (batches.length === 0) return out;
    for (const b of batches) {
      for (const r of b.records) out.push({ ...r, seq: b.seq });
      seq = b.seq + 1;
    }
  }
}

/** Runs the CLI in process (src/cli/main.ts) against real files, capturing stdout, stderr and the exit code. */
export async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runMain(argv, {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    readFile: async (p) => new Uint8Array(await readFile(p)),
  });
  return { code, out, err };
}
