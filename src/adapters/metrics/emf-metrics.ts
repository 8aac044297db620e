/**
 * MetricsSink writing CloudWatch Embedded Metric Format: one JSON object per
 * line on stdout, which Lambda ships to CloudWatch Logs and CloudWatch turns
 * into metrics without an API call
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
 */
import type { MetricsEmission, MetricsSink } from '../../ports/metrics.ts';

export interface EmfMetricsSinkOptions {
  /** CloudWatch namespace, default `anchorlog`. */
  readonly namespace?: string;
  /** Receives one complete line (JSON + newline). Injected: the Lambda passes stdout. */
  readonly write: (line: string) => void;
}

/** The EMF document for one emission (exported for tests and docs). */
export function toEmf(namespace: string, e: MetricsEmission): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    _aws: {
      Timestamp: e.timestampMs,
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: [Object.keys(e.dimensions)],
          Metrics: e.metrics.map((m) => ({ Name: m.name, Unit: m.unit })),
        },
      ],
    },
    ...e.properties,
    ...e.dimensions,
  };
  for (const m of e.metrics) doc[m.name] = m.value;
  return doc;
}

export class EmfMetricsSink implements MetricsSink {
  readonly #namespace: string;
  readonly #write: (line: string) => void;

  constructor(opts: EmfMetricsSinkOptions) {
    this.#namespace = opts.namespace ?? 'anchorlog';
    this.#write = opts.write;
  }

  emit(emission: MetricsEmission): void {
    try {
      this.#write(`${JSON.stringify(toEmf(this.#namespace, emission))}\n`);
    } catch {
      // Contract: a lost metric line must never fail the run that produced it.
    }
  }
}
