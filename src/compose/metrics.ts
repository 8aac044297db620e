/** The metrics sink of the job functions: CloudWatch EMF lines, on stdout unless told otherwise. */
import { EmfMetricsSink } from '../adapters/metrics/emf-metrics.ts';
import type { MetricsSink } from '../ports/metrics.ts';

export function emfMetrics(
  write: (line: string) => void = (line) => process.stdout.write(line),
): MetricsSink {
  return new EmfMetricsSink({ write });
}
