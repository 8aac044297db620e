/**
 * A MetricsSink that records every emission (src/ports/metrics.ts), for tests
 * and the local stack: what the EMF sink would have written, as data.
 */
import type { MetricsEmission, MetricsSink } from '../../ports/metrics.ts';

export class MemoryMetricsSink implements MetricsSink {
  readonly emissions: MetricsEmission[] = [];

  /** Keeps a copy, so a caller that reuses its objects cannot rewrite history. Never throws. */
  emit(emission: MetricsEmission): void {
    try {
      this.emissions.push(structuredClone(emission));
    } catch {
      // Contract: a lost metric must never fail the run that produced it.
    }
  }

  /** Sum of `name` over all emissions whose dimensions include `where`. */
  total(name: string, where: Record<string, string> = {}): number {
    let sum = 0;
    for (const e of this.emissions) {
      if (!Object.entries(where).every(([k, v]) => e.dimensions[k] === v)) continue;
      for (const m of e.metrics) if (m.name === name) sum += m.value;
    }
    return sum;
  }

  /** Emissions whose dimensions include `where`, in order. */
  matching(where: Record<string, string>): MetricsEmission[] {
    return this.emissions.filter((e) => Object.entries(where).every(([k, v]) => e.dimensions[k] === v));
  }

  clear(): void {
    this.emissions.length = 0;
  }
}
