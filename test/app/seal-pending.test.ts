/**
 * The sealer over batches the pending-path sequencer wrote (docs/ingest.md §9):
 * several submitters' requests in one batch, a `members` list in the header.
 * It seals them like any other batches.
 */
import { describe, expect, it } from 'vitest';
import { MemoryPendingStore } from '../../src/adapters/memory/pending-store.ts';
import { IngestService } from '../../src/app/ingest.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { allRecords, localSigner, memorySealEnv, sealer } from './seal-support.ts';

describe('sealing sequenced batches', () => {
  it('concurrent requests of several submitters, batched by the sequencer, seal to one consistent checkpoint', async () => {
    const env = memorySealEnv();
    const ingest = new IngestService({
      store: env.logs,
      clock: env.clock,
      sleep: env.clock.sleep,
      pending: { store: new MemoryPendingStore(), defaultWaitMs: 3_600_000, maxPendingEntries: 10_000 },
    });
    await env.logRegistry.createLog('pool');
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        ingest.append({
          logId: 'pool',
          submitter: `svc-${i % 5}`,
          body: utf8(
            JSON.stringify({
              events: [
                {
                  occurredAt: '2026-03-01T12:00:00.000Z',
                  actor: { type: 'agent', id: `a-${i}` },
                  action: 'tool.call',
                  target: { type: 'tool', id: `t-${i}` },
                  outcome: 'success',
                },
              ],
            }),
          ),
        }),
      ),
    );
    expect(results.every((r) => r.status === 201)).toBe(true);
    const batches = await env.logs.readBatches('pool', 1, 100);
    expect(batches.length).toBeLessThan(40);
    expect(batches.some((b) => (b.members?.length ?? 0) > 1)).toBe(true);
    const r = await sealer(env, localSigner).sealLog('pool');
    expect(r.status).toBe('sealed');
    expect(r.size).toBe(40);
    expect((await allRecords(env, 'pool')).length).toBe(40);
  });
});
