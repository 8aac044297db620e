/**
 * What the seal tests share whatever stores they run on: the environment's
 * shape, the sealer, appending events, creating logs. `memorySealEnv` puts it
 * on the in-memory adapters; ./seal-harness.ts on DynamoDB, S3 and KMS in
 * moto, with every client behind one fault injector.
 */

import { MemoryArchiveStore } from '../../src/adapters/memory/archive-store.ts';
import { ManualClock } from '../../src/adapters/memory/clock.ts';
import { LocalNoteSigner } from '../../src/adapters/memory/local-signer.ts';
import { MemoryLogStore } from '../../src/adapters/memory/log-store.ts';
import { MemorySealStateStore } from '../../src/adapters/memory/seal-state.ts';
import { IngestService } from '../../src/app/ingest.ts';
import { LogRegistry } from '../../src/app/log-registry.ts';
import { SealService, type SealServiceOptions } from '../../src/app/seal.ts';
import { utf8 } from '../../src/core/bytes.ts';
import type { ArchiveStore } from '../../src/ports/archive-store.ts';
import type { LogStore } from '../../src/ports/log-store.ts';
import type { SealStateStore } from '../../src/ports/seal-state.ts';
import type { NoteSigner } from '../../src/ports/signer.ts';

export const ORIGIN_PREFIX = 'seal.test.anchorlog';

export interface SealEnv {
  logs: LogStore;
  state: SealStateStore;
  archive: ArchiveStore;
  ingest: IngestService;
  logRegistry: LogRegistry;
  clock: ManualClock;
}

export const sealClock = () => new ManualClock({ startMs: Date.UTC(2026, 2, 1, 12) });

/** The seal tests' environment on the in-memory adapters. */
export function memorySealEnv(): SealEnv & {
  logs: MemoryLogStore;
  state: MemorySealStateStore;
  archive: MemoryArchiveStore;
} {
  const clock = sealClock();
  const logs = new MemoryLogStore();
  return {
    logs,
    state: new MemorySealStateStore(),
    archive: new MemoryArchiveStore({ clock, retentionDays: 400 }),
    ingest: new IngestService({ store: logs, clock, sleep: clock.sleep }),
    logRegistry: new LogRegistry({ store: logs, clock }),
    clock,
  };
}

export const localSigner = LocalNoteSigner.generate('anchorlog-seal-key');

export function sealer(
  env: SealEnv,
  signer: NoteSigner,
  extra: Partial<SealServiceOptions> = {},
): SealService {
  return new SealService({
    logs: env.logs,
    state: env.state,
    archive: env.archive,
    signer,
    clock: env.clock,
    originPrefix: ORIGIN_PREFIX,
    ...extra,
  });
}

let eventCounter = 0;
/** Appends `n` events as one batch (one request); `action(i)` names the i-th's action (default tool.call). */
export async function appendEvents(
  env: SealEnv,
  logId: string,
  n: number,
  pad = 0,
  action: (i: number) => string = () => 'tool.call',
): Promise<void> {
  const events = Array.from({ length: n }, (_, i) => ({
    occurredAt: '2026-03-01T12:00:00.000Z',
    actor: { type: 'agent', id: `agent-${eventCounter % 7}` },
    action: action(i),
    target: { type: 'tool', id: `t-${eventCounter++}` },
    outcome: 'success',
    ...(pad > 0 ? { metadata: { pad: 'x'.repeat(pad) } } : {}),
  }));
  env.clock.t += 1;
  await env.ingest.append({ logId, submitter: 'svc-test', body: utf8(JSON.stringify({ events })) });
}

export async function newLog(env: SealEnv, logId: string): Promise<void> {
  await env.logRegistry.createLog(logId);
}

/** All record bytes of the log, from the log store. */
export async function allRecords(env: SealEnv, logId: string): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let seq = 1; ; ) {
    const got = await env.logs.readBatches(logId, seq, 100);
    for (const b of got) for (const r of b.records) out.push(r.bytes);
    if (got.length < 100) return out;
    seq += got.length;
  }
}
