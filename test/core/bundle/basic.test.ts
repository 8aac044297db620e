import { describe, expect, it } from 'vitest';
import { verifyBundle } from '../../../src/core/bundle/index.ts';
import { exportBundle, makeLog, members, trustFor } from './fixture.ts';

describe('bundle: round trip', () => {
  it('writes a range bundle that verifies', async () => {
    const log = makeLog(50);
    const bundle = await exportBundle(log, {
      fromTime: '2025-06-01T00:10:00.000Z',
      toTime: '2025-06-01T00:30:00.000Z',
      checkpoints: [20, 45, 50],
      checkpointSize: 50,
    });
    const ms = await members(bundle);
    console.log(ms.map((m) => `${m.path} ${m.data.length}`).join('\n'));
    const report = await verifyBundle(bundle, trustFor(log));
    console.log(JSON.stringify(report, null, 2));
    expect(report.ok).toBe(true);
  });
});
