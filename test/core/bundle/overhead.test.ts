/** Bundle size vs raw record bytes for 10,000 records (the lead runs the large benchmark). */
import { describe, expect, it } from 'vitest';
import { verifyBundle } from '../../../src/core/bundle/index.ts';
import { exportBundle, makeLog, trustFor } from './fixture.ts';

describe('bundle overhead', () => {
  it('10,000 records: bundle bytes vs raw record bytes', async () => {
    const log = makeLog(10_100, { stepMs: 1000 });
    const raw = log.records.slice(50, 10_050).reduce((n, r) => n + r.length, 0);
    const t0 = performance.now();
    const bundle = await exportBundle(log, {
      fromTime: log.receivedAt[50] as string,
      toTime: log.receivedAt[10_050] as string,
      checkpoints: [5000, 10_100],
    });
    const t1 = performance.now();
    const report = await verifyBundle(bundle, trustFor(log));
    const t2 = performance.now();
    expect(report.records.count).toBe(10_000);
    const overhead = bundle.length - raw;
    console.log(
      `10,000 records: raw ${raw} B, bundle ${bundle.length} B, overhead ${overhead} B ` +
        `(${((overhead / raw) * 100).toFixed(2)}%; ${(overhead / 10_000).toFixed(1)} B/record incl. newlines); ` +
        `write ${(t1 - t0).toFixed(0)} ms (incl. test log setup + 2 TSA calls), verify ${(t2 - t1).toFixed(0)} ms`,
    );
    expect(overhead / raw).toBeLessThan(0.05);
  });
});
