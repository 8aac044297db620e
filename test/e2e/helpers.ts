import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
