/**
 * MetricsSink port: numbers an operator alarms on (docs/operations.md §Alarms;
 * the anchor job's in docs/anchoring.md §Metrics and alarms). Implemented by src/adapters/metrics/emf-metrics.ts
 * (CloudWatch Embedded Metric Format on stdout) and by an in-memory sink in tests.
 *
 * `emit` MUST NOT throw and MUST NOT block on I/O: losing a metric line is
 * better than failing the run that produced it.
 */
export type MetricUnit = 'Count' | 'Milliseconds' | 'None';

export interface MetricDatum {
  readonly name: string;
  readonly value: number;
  readonly unit: MetricUnit;
}

export interface MetricsEmission {
  /** One dimension set; every metric in the emission is recorded under it. */
  readonly dimensions: Readonly<Record<string, string>>;
  readonly metrics: readonly MetricDatum[];
  /** Epoch ms (from the caller's Clock). */
  readonly timestampMs: number;
  /** Extra searchable properties (not metrics), e.g. a run's outcome. */
  readonly properties?: Readonly<Record<string, string | number | boolean>>;
}

export interface MetricsSink {
  emit(emission: MetricsEmission): void;
}

/** A sink that keeps emissions in memory (tests, the local stack). */
export class MemoryMetricsSink implements MetricsSink {
  readonly emissions: MetricsEmission[] = [];
  emit(emission: MetricsEmission): void {
    this.emissions.push(emission);
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
}
