/**
 * The MetricsSink contract (src/ports/metrics.ts): run against the recording
 * sink of the memory adapters and the CloudWatch EMF sink. The factory says
 * how to read back what was emitted (for EMF: parse the lines it wrote).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { MetricsEmission, MetricsSink } from '../../src/ports/metrics.ts';

export interface MetricsSinkUnderTest {
  readonly sink: MetricsSink;
  /** Everything emitted so far, as emissions. */
  readonly emitted: () => MetricsEmission[];
}

const emission = (n: number): MetricsEmission => ({
  dimensions: { LogId: 'log-1', Tsa: 'freetsa.org' },
  metrics: [
    { name: 'AnchorAttempts', value: n, unit: 'Count' },
    { name: 'AnchorLatency', value: 12.5, unit: 'Milliseconds' },
  ],
  timestampMs: Date.UTC(2026, 2, 1) + n,
  properties: { outcome: 'granted', quorumMet: true, size: 42 },
});

export function metricsContract(name: string, make: () => Promise<MetricsSinkUnderTest>): void {
  describe(`MetricsSink contract: ${name}`, () => {
    let u: MetricsSinkUnderTest;
    beforeAll(async () => {
      u = await make();
    });

    it('records each emission whole: dimensions, values, units, time and properties', () => {
      const before = u.emitted().length;
      u.sink.emit(emission(1));
      u.sink.emit({ dimensions: {}, metrics: [{ name: 'Runs', value: 1, unit: 'None' }], timestampMs: 5 });
      const got = u.emitted().slice(before);
      expect(got).toEqual([
        emission(1),
        { dimensions: {}, metrics: [{ name: 'Runs', value: 1, unit: 'None' }], timestampMs: 5 },
      ]);
    });

    it('emit returns at once and does not throw, whatever it is given', () => {
      const odd = {
        ...emission(2),
        properties: { fn: (() => 1) as unknown as string },
      };
      expect(() => u.sink.emit(odd)).not.toThrow();
      expect(u.sink.emit(emission(3))).toBeUndefined();
    });
  });
}
